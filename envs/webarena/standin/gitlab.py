"""The stand-in code-hosting site (as WebArena's GitLab): projects, issues, project members and their roles."""
from __future__ import annotations

from .web import Request, Response, Site, document, esc, not_found, redirect

ROLES = ("Guest", "Reporter", "Developer", "Maintainer", "Owner")


class GitLab(Site):
    name = "gitlab"

    def reset(self) -> None:
        self.projects = {
            "primer/design": {
                "description": "Primer Design Guidelines",
                "members": {"primer": "Owner", "byteblaze": "Developer", "mkhalifa": "Reporter"},
                "issues": [
                    {"title": "Accessible light and dark syntax highlighting themes", "author": "mkhalifa"},
                    {"title": "Add more deploy triggers", "author": "byteblaze"},
                    {"title": "Create MVP React component layout", "author": "primer"},
                ]},
            "byteblaze/dotfiles": {"description": "Config files for vim and zsh", "members": {"byteblaze": "Owner"},
                                   "issues": []},
        }

    def routes(self) -> None:
        self.add("GET", r"/", self.dashboard)
        self.add("GET", r"/users/sign_in", self.sign_in)
        self.add("POST", r"/users/sign_in", self.sign_in_post)
        self.add("GET", r"/-/profile", self.profile)
        self.add("GET", r"/(?P<project>[\w-]+/[\w-]+)", self.project)
        self.add("GET", r"/(?P<project>[\w-]+/[\w-]+)/-/issues", self.issues)
        self.add("GET", r"/(?P<project>[\w-]+/[\w-]+)/-/issues/(?P<n>\d+)", self.issue)
        self.add("GET", r"/(?P<project>[\w-]+/[\w-]+)/-/project_members", self.members)
        self.add("GET", r"/(?P<project>[\w-]+/[\w-]+)/-/project_members/(?P<user>[\w.-]+)/edit", self.edit_member)
        self.add("POST", r"/(?P<project>[\w-]+/[\w-]+)/-/project_members/(?P<user>[\w.-]+)", self.save_member)

    def page(self, req: Request, title: str, main: str) -> Response:
        who = f'<a href="/-/profile">{esc(req.user)}</a>' if req.user else '<a href="/users/sign_in">Sign in</a>'
        header = f'<header><nav aria-label="Main"><a href="/">Projects</a> {who}</nav></header>'
        return Response(body=document(f"{title} · GitLab", header + f"<main>{main}</main>"))

    def _project(self, req: Request):
        return self.projects.get(req.params["project"])

    def dashboard(self, req: Request) -> Response:
        if not req.user:
            return redirect("/users/sign_in")
        items = "".join(f'<li><a href="/{name}">{name}</a> {esc(p["description"])}</li>'
                        for name, p in self.projects.items())
        return self.page(req, "Projects", f"<h1>Projects</h1><ul>{items}</ul>")

    def sign_in(self, req: Request) -> Response:
        return self.page(req, "Sign in", '<h1>Sign in</h1><form method="post" action="/users/sign_in">'
                                         '<label for="user_login">Username or email</label> <input id="user_login" '
                                         'name="login" data-testid="username-field"> <label for="user_password">'
                                         'Password</label> <input id="user_password" name="password" type="password" '
                                         'data-testid="password-field"> <button type="submit" '
                                         'data-testid="sign-in-button">Sign in</button></form>')

    def sign_in_post(self, req: Request) -> Response:
        token = self.log_in(req.form.get("login", ""), req.form.get("password", ""))
        return self.login_response(token, "/") if token else redirect("/users/sign_in")

    def profile(self, req: Request) -> Response:
        if not req.user:
            return redirect("/users/sign_in")
        return self.page(req, "Profile", f"<h1>Edit Profile</h1><p>{esc(req.user)}</p>")

    def project(self, req: Request) -> Response:
        p = self._project(req)
        if p is None:
            return not_found()
        name = req.params["project"]
        issues = "".join(f"<li>{esc(i['title'])}</li>" for i in p["issues"])
        return self.page(req, name, f'<h1>{name.split("/")[1]}</h1><p>{esc(p["description"])}</p>'
                                    f'<nav aria-label="Project"><a href="/{name}/-/issues">Issues</a> '
                                    f'<a href="/{name}/-/project_members">Members</a></nav>'
                                    f"<h2>Open issues</h2><ul>{issues}</ul>")

    def issues(self, req: Request) -> Response:
        p = self._project(req)
        if p is None:
            return not_found()
        name = req.params["project"]
        items = "".join(f'<li><a href="/{name}/-/issues/{n}">{esc(i["title"])}</a></li>'
                        for n, i in enumerate(p["issues"], 1))
        return self.page(req, f"Issues · {name}", f"<h1>Issues</h1><ul>{items}</ul>")

    def issue(self, req: Request) -> Response:
        p = self._project(req)
        n = int(req.params["n"])
        if p is None or not 1 <= n <= len(p["issues"]):
            return not_found()
        i = p["issues"][n - 1]
        return self.page(req, i["title"], f'<h1>{esc(i["title"])}</h1><p class="issue-author">Opened by '
                                          f'<a href="/{esc(i["author"])}">{esc(i["author"])}</a></p>')

    def members(self, req: Request) -> Response:
        p = self._project(req)
        if p is None:
            return not_found()
        name = req.params["project"]
        rows = "".join(f"<tr><td data-label=\"Account\"><span class=\"gl-avatar-labeled-label\">{esc(u)}</span> "
                       f"<span class=\"gl-avatar-labeled-sublabel\">@{esc(u)}</span></td>"
                       f"<td class=\"col-max-role\"><span>{role}</span></td>"
                       f"<td><a href=\"/{name}/-/project_members/{esc(u)}/edit\">Edit role of {esc(u)}</a></td></tr>"
                       for u, role in p["members"].items())
        return self.page(req, f"Members · {name}", f"<h1>Project members</h1><table><tr><th>Account</th>"
                                                  f"<th>Max role</th><th>Actions</th></tr>{rows}</table>")

    def edit_member(self, req: Request) -> Response:
        p = self._project(req)
        user = req.params["user"]
        if p is None or user not in p["members"]:
            return not_found()
        if not req.user:
            return redirect("/users/sign_in")
        name = req.params["project"]
        radios = "".join(f'<input type="radio" id="role-{r}" name="role" value="{r}"'
                         f'{" checked" if p["members"][user] == r else ""}><label for="role-{r}">{r}</label> '
                         for r in ROLES)
        return self.page(req, f"Edit {user}", f"<h1>Role of {esc(user)} in {name}</h1>"
                                              f'<form method="post" action="/{name}/-/project_members/{esc(user)}">'
                                              f'<fieldset><legend>Role</legend>{radios}</fieldset>'
                                              '<button type="submit">Update role</button></form>')

    def save_member(self, req: Request) -> Response:
        p = self._project(req)
        user = req.params["user"]
        if p is None or user not in p["members"] or not req.user:
            return not_found()
        if req.form.get("role") in ROLES:
            p["members"][user] = req.form["role"]
        return redirect(f"/{req.params['project']}/-/project_members")
