"""The stand-in forum (Postmill-like, as WebArena's Reddit): forums, submissions, comments, votes, log-in."""
from __future__ import annotations

from .web import Request, Response, Site, document, esc, not_found, redirect

FORUM_NAMES = (
    "AskReddit", "Art", "announcements", "askscience", "aww", "baking", "bicycling", "books", "boston", "cars",
    "chess", "cooking", "DIY", "Documentaries", "earthporn", "Fitness", "food", "funny", "gadgets", "gaming",
    "gardening", "history", "jokes", "LifeProTips", "movies", "music", "news", "nosleep", "personalfinance",
    "philosophy", "photography", "pics", "science", "space", "sports", "technology", "television", "travel",
    "wallstreetbets", "worldnews", "writing")


def _slug(title: str) -> str:
    return "_".join("".join(c for c in w.lower() if c.isalnum()) for w in title.split())[:60]


class Forum(Site):
    name = "forum"

    def reset(self) -> None:
        self.forums = {name: [] for name in FORUM_NAMES}
        self.posts: dict[int, dict] = {}
        self.votes: dict[tuple[str, int], int] = {}
        seed = [
            ("books", "Which sci-fi novel should I read next?", "I loved Dune and Hyperion.", "MarvelsGrantMan136", 41,
             [("bookworm", "Read The Left Hand of Darkness.")]),
            ("books", "A library near me closes on Sundays", "Anyone else annoyed?", "Hrekires", 5, []),
            ("books", "Finished War and Peace after two years", "It was worth it.", "quietreader", 17, []),
            ("gadgets", "My new phone's battery is awful", "It is a flagship phone.", "techie42", 63,
             [("batteryguy", "The battery dies too quickly after the last update, it barely lasts half a day."),
              ("techie42", "Same here.")]),
            ("technology", "Open source maps are getting better", "OSM now has most shops.", "mapper", 12, []),
        ]
        for forum, title, body, author, score, comments in seed:
            self._new_post(forum, title, body, author, score, comments)
        # the post upstream's evaluator tests read (its body is the escaped zero-width space, as text)
        self._new_post("wallstreetbets", "Daily discussion thread", "&#x200B;", "Hrekires", 3,
                       [("bullish", "To the moon.")], pid=50431)

    def _new_post(self, forum: str, title: str, body: str, author: str, score: int = 1,
                  comments: list | tuple = (), pid: int | None = None) -> dict:
        pid = pid or 100 + sum(1 for p in self.posts if p < 50000) + 1
        post = {"id": pid, "forum": forum, "title": title, "body": body, "author": author, "score": score,
                "comments": [{"author": a, "text": t} for a, t in comments]}
        self.posts[pid] = post
        self.forums[forum].append(pid)
        return post

    def routes(self) -> None:
        self.add("GET", r"/", self.front)
        self.add("GET", r"/forums", self.forums_page)
        self.add("GET", r"/forums/all", self.alphabetical)
        self.add("GET", r"/f/(?P<forum>\w+)/?", self.forum)
        self.add("GET", r"/f/(?P<forum>\w+)/(?P<pid>\d+)(?:/(?P<slug>[\w-]*))?/?", self.post)
        self.add("GET", r"/f/(?P<forum>\w+)/(?P<pid>\d+)/-/comment/(?P<cid>\d+)/?", self.post)
        self.add("POST", r"/sv/(?P<pid>\d+)", self.vote)
        self.add("GET", r"/submit/(?P<forum>\w+)", self.submit_form)
        self.add("POST", r"/submit/(?P<forum>\w+)", self.submit)
        self.add("GET", r"/login", self.login_form)
        self.add("POST", r"/login_check", self.login_post)
        self.add("GET", r"/user/(?P<name>[\w.-]+)(?:/account)?", self.user)

    def page(self, req: Request, title: str, main: str) -> Response:
        who = (f'<a href="/user/{esc(req.user)}">{esc(req.user)}</a>' if req.user else '<a href="/login">Log in</a>')
        header = ('<header><nav aria-label="Site"><a href="/">Postmill</a> <a href="/forums">Forums</a> '
                  f"{who}</nav></header>")
        return Response(body=document(title, header + f"<main>{main}</main>"))

    def _article(self, req: Request, post: dict, link: bool = True) -> str:
        vote = self.votes.get((req.user or "", post["id"]), 0)
        cls = "submission" + (" vote--user-upvoted" if vote > 0 else " vote--user-downvoted" if vote < 0 else "")
        title = (f'<a href="/f/{post["forum"]}/{post["id"]}/{_slug(post["title"])}">{esc(post["title"])}</a>'
                 if link else esc(post["title"]))
        return (f'<article id="submission-{post["id"]}" class="{cls}"><h2 class="submission__title">{title}</h2>'
                f'<p>Submitted by <a href="/user/{esc(post["author"])}">{esc(post["author"])}</a> in '
                f'<a href="/f/{post["forum"]}">{post["forum"]}</a></p>'
                f'<form method="post" action="/sv/{post["id"]}"><button name="dir" value="1" '
                f'aria-label="Upvote {esc(post["title"])}">Upvote</button> <span class="vote__net-score">'
                f'{post["score"] + vote}</span> <button name="dir" value="-1" aria-label="Downvote '
                f'{esc(post["title"])}">Downvote</button></form></article>')

    def front(self, req: Request) -> Response:
        posts = sorted(self.posts.values(), key=lambda p: -p["score"])
        return self.page(req, "Postmill", "<h1>Featured submissions</h1>" +
                         "".join(self._article(req, p) for p in posts))

    def forums_page(self, req: Request) -> Response:
        busiest = sorted(self.forums, key=lambda f: -len(self.forums[f]))[:5]
        items = "".join(f'<li><a href="/f/{f}">{f}</a></li>' for f in busiest)
        return self.page(req, "List of forums", '<h1>List of forums</h1><nav aria-label="Sort">'
                                                '<a href="/forums/all">Alphabetical</a></nav>'
                                                f"<h2>Most submissions</h2><ul>{items}</ul>")

    def alphabetical(self, req: Request) -> Response:
        names = sorted(self.forums, key=str.lower)
        items = "".join(f'<li style="height:48px"><a href="/f/{f}">{f}</a></li>' for f in names)
        return self.page(req, "All forums", f"<h1>All forums</h1><ul>{items}</ul>")

    def forum(self, req: Request) -> Response:
        name = req.params["forum"]
        if name not in self.forums:
            return not_found()
        posts = [self.posts[i] for i in reversed(self.forums[name])]
        submit = f'<a href="/submit/{name}">Submit a new post</a>' if req.user else ""
        return self.page(req, f"/f/{name}", f"<h1>/f/{name}</h1>{submit}" +
                         "".join(self._article(req, p) for p in posts))

    def post(self, req: Request) -> Response:
        post = self.posts.get(int(req.params["pid"]))
        if post is None or post["forum"] != req.params["forum"]:
            return not_found()
        comments = "".join(f'<li class="comment"><p>{esc(c["author"])} wrote:</p><p>{esc(c["text"])}</p></li>'
                           for c in post["comments"])
        main = (f'<div class="submission__inner">{self._article(req, post, link=False)}'
                f'<div class="submission__body"><p>{esc(post["body"])}</p></div></div>'
                f"<section><h2>{len(post['comments'])} comments</h2><ul>{comments}</ul></section>")
        return self.page(req, post["title"], main)

    def vote(self, req: Request) -> Response:
        post = self.posts.get(int(req.params["pid"]))
        if post is None:
            return not_found()
        if not req.user:
            return redirect("/login")
        want = 1 if req.form.get("dir") == "1" else -1
        key = (req.user, post["id"])
        self.votes[key] = 0 if self.votes.get(key) == want else want
        return redirect(req.headers.get("referer") or f"/f/{post['forum']}")

    def submit_form(self, req: Request) -> Response:
        forum = req.params["forum"]
        if forum not in self.forums:
            return not_found()
        if not req.user:
            return redirect("/login")
        return self.page(req, "Create submission", f'<h1>Create submission in /f/{forum}</h1>'
                                                   f'<form method="post" action="/submit/{forum}">'
                                                   '<label for="title">Title</label> <input id="title" name="title" '
                                                   'size="60"> <label for="body">Body</label> <input id="body" '
                                                   'name="body" size="60"> <button type="submit">Create submission'
                                                   '</button></form>')

    def submit(self, req: Request) -> Response:
        forum = req.params["forum"]
        if forum not in self.forums or not req.user:
            return redirect("/login")
        title = req.form.get("title", "").strip()
        if not title:
            return redirect(f"/submit/{forum}")
        post = self._new_post(forum, title, req.form.get("body", ""), req.user)
        return redirect(f"/f/{forum}/{post['id']}/{_slug(title)}")

    def login_form(self, req: Request) -> Response:
        return self.page(req, "Log in", '<h1>Log in</h1><form method="post" action="/login_check">'
                                        '<label for="username">Username</label> <input id="username" name="_username"> '
                                        '<label for="password">Password</label> <input id="password" '
                                        'name="_password" type="password"> <button type="submit">Log in</button>'
                                        "</form>")

    def login_post(self, req: Request) -> Response:
        token = self.log_in(req.form.get("_username", ""), req.form.get("_password", ""))
        return self.login_response(token, "/") if token else redirect("/login")

    def user(self, req: Request) -> Response:
        name = req.params["name"]
        posts = [p for p in self.posts.values() if p["author"] == name]
        return self.page(req, name, f"<h1>{esc(name)}</h1>" + "".join(self._article(req, p) for p in posts))

