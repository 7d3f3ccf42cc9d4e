"""The stand-in homepage (as WebArena's): links to the sites, the accounts page, and two small pages that stand in
for the external pages upstream's evaluator tests use (a form exercise page, a wiki article, a map page)."""
from __future__ import annotations

from .web import Request, Response, Site, document, esc


class Home(Site):
    name = "home"

    def __init__(self, accounts: dict[str, str], links: dict[str, str], logins: dict[str, dict[str, str]]) -> None:
        self.links, self.logins = links, logins
        super().__init__(accounts)

    def routes(self) -> None:
        self.add("GET", r"/", self.home)
        self.add("GET", r"/password\.html", self.passwords)
        self.add("GET", r"/exercise/?", self.exercise)
        self.add("GET", r"/wiki/?", self.wiki)
        self.add("GET", r"/map/?", self.map)

    def home(self, req: Request) -> Response:
        items = "".join(f'<li><a href="{esc(url)}">{esc(name)}</a></li>' for name, url in self.links.items())
        return Response(body=document("Homepage", f"<main><h1>Welcome to the sites</h1><ul>{items}</ul>"
                                                  '<a href="/password.html">Account passwords</a></main>'))

    def passwords(self, req: Request) -> Response:
        rows = "".join(f"<tr><td>{esc(site)}</td><td>{esc(a['username'])}</td><td>{esc(a['password'])}</td></tr>"
                       for site, a in self.logins.items())
        return Response(body=document("Accounts", "<main><h1>Accounts</h1><table><tr><th>Site</th><th>Username</th>"
                                                  f"<th>Password</th></tr>{rows}</table></main>"))

    def exercise(self, req: Request) -> Response:
        form = ('<form><div><label for="form-name">Full name</label> <input id="form-name" type="text"></div>'
                '<div><label for="form-email">Email</label> <input id="form-email" type="email"></div>'
                '<div><label for="form-message">Message</label> <textarea id="form-message"></textarea></div>'
                '<button type="button">Submit</button></form>')
        filler = "".join(f"<p>Paragraph {k} of the exercise notes, below the form.</p>" for k in range(1, 41))
        return Response(body=document("Form exercise", f"<main><h1>Form exercise</h1>{form}{filler}</main>"))

    def wiki(self, req: Request) -> Response:
        return Response(body=document("Carnegie Mellon University - Wikipedia",
                                      "<main><h1>Carnegie Mellon University</h1><p>Carnegie Mellon University is a "
                                      "private research university in Pittsburgh, Pennsylvania.</p></main>"))

    def map(self, req: Request) -> Response:
        return Response(body=document("OpenStreetMap", '<main><h1>OpenStreetMap</h1><form role="search">'
                                                       '<label for="q">Search</label> <input id="q"> '
                                                       '<button type="button">Go</button></form></main>'))
