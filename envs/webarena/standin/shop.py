"""The stand-in shop (customer side) and its admin panel, sharing one catalogue, with the subset of Magento's REST
API that WebArena's evaluation helpers call (admin token, latest orders, product reviews)."""
from __future__ import annotations

import secrets
from dataclasses import dataclass, field

from .web import Request, Response, Site, as_json, document, esc, not_found, redirect


@dataclass
class Product:
    pid: int
    sku: str
    name: str
    slug: str
    price: float
    description: str
    sold_2022: int = 0
    reviews: list[dict] = field(default_factory=list)  # {"nickname", "stars", "summary", "text"} oldest first


def _catalogue() -> list[Product]:
    rows = [
        ("B0001CANDL", "Tall Pink Taper Candles 4 Piece", 17.99, "Dripless taper candles, 10 inches tall.", 41),
        ("B0002STARF", "White Starfish Wall Candle Sconces Set of 2", 28.50, "Beach decor candle holders.", 12),
        ("B0003V8ENR", "V8 Energy Drink Pomegranate Blueberry 24 Pack", 22.99, "Healthy energy from tea.", 57),
        ("B0004CICLN", "Ciclon Energy Drink Regular 24 Cans", 19.49, "Energy drink, 8.3 oz cans.", 33),
        ("B09BCM56J7", "HP CB782A 640 Inkjet Fax Machine (Renewed)", 279.49, "Fax, copy and print.", 8),
        ("B0006QUEST", "Quest Lumaflex Band", 24.00, "A resistance band for stretching.", 96),
        ("B0007STYLS", "Stylus Pens for Touch Screens 2 Pcs", 9.99, "Universal 2-in-1 stylus pens.", 25),
        ("B0008SOCKS", "Frilly Ruffle Lace Ankle Socks 3 Pairs", 11.99, "Lace socks for girls and women.", 19),
    ]
    products = []
    for i, (sku, name, price, desc, sold) in enumerate(rows, 1):
        slug = "".join(c if c.isalnum() else "-" for c in name.lower()).strip("-").replace("--", "-")
        products.append(Product(i, sku, name, slug, price, desc, sold))
    products[4].reviews = [
        {"nickname": "faxfan", "stars": 3, "summary": "Works", "text": "Loud but fine."},
        {"nickname": "cupcakecupcake", "stars": 5, "summary": "Great", "text": "Prints sharp faxes."},
    ]
    products[0].reviews = [{"nickname": "waxworks", "stars": 4, "summary": "Pretty", "text": "Nice pink colour."}]
    return products


class ShopData:
    """The catalogue, carts, wish lists and orders, shared by the shop and its admin panel."""

    def __init__(self) -> None:
        self.reset()

    def reset(self) -> None:
        self.products = _catalogue()
        self.carts: dict[str, dict[int, int]] = {}
        self.wishlists: dict[str, list[int]] = {}
        self.orders = [  # increment id, customer, created_at, [(pid, qty)]
            {"increment_id": "000000188", "customer": "emma.lopez@gmail.com", "created_at": "2023-03-11 10:00:00",
             "items": [(3, 1)], "status": "complete"},
            {"increment_id": "000000189", "customer": "emma.lopez@gmail.com", "created_at": "2023-05-02 09:30:00",
             "items": [(8, 2)], "status": "complete"},
        ]
        self.tokens: set[str] = set()

    def product(self, pid: int) -> Product | None:
        return next((p for p in self.products if p.pid == pid), None)

    def by_slug(self, slug: str) -> Product | None:
        return next((p for p in self.products if p.slug == slug), None)

    def by_sku(self, sku: str) -> Product | None:
        return next((p for p in self.products if p.sku == sku), None)


def money(x: float) -> str:
    return f"${x:,.2f}"


class Shop(Site):
    name = "shop"

    def __init__(self, accounts: dict[str, str], data: ShopData, admin_accounts: dict[str, str]) -> None:
        self.data = data
        self.admin_accounts = admin_accounts  # for the REST token
        super().__init__(accounts)

    def reset(self) -> None:
        self.data.reset()

    def routes(self) -> None:
        self.add("GET", r"/", self.home)
        self.add("GET", r"/catalogsearch/result/", self.search)
        self.add("GET", r"/(?P<slug>[a-z0-9-]+)\.html", self.product_page)
        self.add("POST", r"/checkout/cart/add", self.cart_add)
        self.add("GET", r"/checkout/cart/", self.cart)
        self.add("GET", r"/checkout/", self.checkout)
        self.add("POST", r"/checkout/place", self.place_order)
        self.add("GET", r"/checkout/onepage/success/(?P<oid>\d+)/", self.success)
        self.add("GET", r"/sales/order/history/", self.order_history)
        self.add("GET", r"/sales/order/view/order_id/(?P<oid>\d+)/", self.order_view)
        self.add("POST", r"/wishlist/add", self.wishlist_add)
        self.add("GET", r"/wishlist/", self.wishlist)
        self.add("POST", r"/review/post", self.review_post)
        self.add("GET", r"/customer/account/login/", self.login_form)
        self.add("POST", r"/customer/account/loginPost/", self.login_post)
        self.add("GET", r"/customer/account/", self.account)
        self.add("POST", r"/rest/default/V1/integration/admin/token", self.rest_token)
        self.add("GET", r"/rest/V1/orders", self.rest_orders)
        self.add("GET", r"/rest/V1/products/(?P<sku>[A-Za-z0-9]+)/reviews", self.rest_reviews)

    # --- layout ----------------------------------------------------------------------------------------------------
    def page(self, req: Request, title: str, main: str) -> Response:
        cart = sum(self.data.carts.get(req.user or "", {}).values())
        account = ('<a href="/customer/account/">My Account</a> <a href="/wishlist/">My Wish List</a> '
                   '<a href="/sales/order/history/">My Orders</a>' if req.user else
                   '<a href="/customer/account/login/">Sign In</a>')
        header = (f'<header><a href="/">One Stop Market</a> {account} <a href="/checkout/cart/">My Cart ({cart})</a>'
                  '<form action="/catalogsearch/result/" method="get" role="search">'
                  '<label for="search">Search</label> <input id="search" name="q" type="text"> '
                  '<button type="submit">Search</button></form></header>')
        return Response(body=document(title, header + f"<main>{main}</main>"))

    def _item(self, p: Product) -> str:
        return f'<li><a href="/{p.slug}.html">{esc(p.name)}</a> <span class="price">{money(p.price)}</span></li>'

    # --- pages -----------------------------------------------------------------------------------------------------
    def home(self, req: Request) -> Response:
        items = "".join(self._item(p) for p in self.data.products)
        return self.page(req, "One Stop Market", f"<h1>Product Showcases</h1><ul>{items}</ul>")

    def search(self, req: Request) -> Response:
        q = req.query.get("q", "")
        words = q.lower().split()
        hits = [p for p in self.data.products if words and all(w in p.name.lower() for w in words)]
        body = "".join(self._item(p) for p in hits) or "<li>Your search returned no results.</li>"
        return self.page(req, f"Search results for: '{q}'",
                         f"<h1>Search results for: '{esc(q)}'</h1><p>{len(hits)} items</p><ul>{body}</ul>")

    def product_page(self, req: Request) -> Response:
        p = self.data.by_slug(req.params["slug"])
        if p is None:
            return not_found()
        reviews = "".join(f'<li class="review"><strong>{esc(r["summary"])}</strong> Rating: {r["stars"]} of 5 '
                          f'<span class="review-author">Review by {esc(r["nickname"])}</span> '
                          f'<p>{esc(r["text"])}</p></li>' for r in p.reviews)
        stars = "".join(f'<input type="radio" id="star-{k}" name="stars" value="{k}">'
                        f'<label for="star-{k}">{k} star{"s" if k > 1 else ""}</label> ' for k in range(1, 6))
        main = (f'<h1 class="page-title">{esc(p.name)}</h1><p class="price">{money(p.price)}</p>'
                f'<p>SKU: <span class="sku">{p.sku}</span></p><p>{esc(p.description)}</p>'
                f'<form method="post" action="/checkout/cart/add"><input type="hidden" name="pid" value="{p.pid}">'
                f'<label for="qty">Qty</label> <input id="qty" name="qty" value="1" size="3"> '
                '<button type="submit">Add to Cart</button></form>'
                f'<form method="post" action="/wishlist/add"><input type="hidden" name="pid" value="{p.pid}">'
                '<button type="submit">Add to Wish List</button></form>'
                f'<section id="reviews"><h2>{len(p.reviews)} Reviews</h2><ul>{reviews}</ul></section>'
                f'<section><h2>Write Your Own Review</h2><form method="post" action="/review/post">'
                f'<input type="hidden" name="pid" value="{p.pid}"><fieldset><legend>Your Rating</legend>{stars}'
                '</fieldset><label for="nickname">Nickname</label> <input id="nickname" name="nickname"> '
                '<label for="summary">Summary</label> <input id="summary" name="summary"> '
                '<label for="review">Review</label> <input id="review" name="text"> '
                '<button type="submit">Submit Review</button></form></section>')
        return self.page(req, p.name, main)

    def _need_user(self, req: Request) -> Response | None:
        return None if req.user else redirect("/customer/account/login/")

    def cart_add(self, req: Request) -> Response:
        if (r := self._need_user(req)) is not None:
            return r
        p = self.data.product(int(req.form.get("pid", 0)))
        if p is None:
            return not_found()
        try:
            qty = max(1, int(req.form.get("qty") or 1))
        except ValueError:
            qty = 1
        cart = self.data.carts.setdefault(req.user, {})
        cart[p.pid] = cart.get(p.pid, 0) + qty
        return redirect("/checkout/cart/")

    def cart(self, req: Request) -> Response:
        cart = self.data.carts.get(req.user or "", {})
        rows = "".join(f"<tr><td>{esc(self.data.product(pid).name)}</td><td>{qty}</td>"
                       f"<td>{money(self.data.product(pid).price * qty)}</td></tr>" for pid, qty in cart.items())
        total = sum(self.data.product(pid).price * qty for pid, qty in cart.items())
        main = (f'<h1>Shopping Cart</h1><table class="cart items"><tr><th>Item</th><th>Qty</th><th>Subtotal</th>'
                f"</tr>{rows}</table><p>Order Total {money(total)}</p>" +
                ('<a href="/checkout/">Proceed to Checkout</a>' if cart else "<p>You have no items in your cart.</p>"))
        return self.page(req, "Shopping Cart", main)

    def checkout(self, req: Request) -> Response:
        if (r := self._need_user(req)) is not None:
            return r
        return self.page(req, "Checkout", '<h1>Checkout</h1><p>Ship to: Emma Lopez, 101 S San Mateo Dr</p>'
                                          '<form method="post" action="/checkout/place">'
                                          '<button type="submit">Place Order</button></form>')

    def place_order(self, req: Request) -> Response:
        if (r := self._need_user(req)) is not None:
            return r
        cart = self.data.carts.get(req.user, {})
        if not cart:
            return redirect("/checkout/cart/")
        number = max(int(o["increment_id"]) for o in self.data.orders) + 1
        self.data.orders.append({"increment_id": f"{number:09d}", "customer": req.user,
                                 "created_at": f"2023-06-{len(self.data.orders):02d} 12:00:00",
                                 "items": list(cart.items()), "status": "pending"})
        self.data.carts[req.user] = {}
        return redirect(f"/checkout/onepage/success/{number}/")

    def success(self, req: Request) -> Response:
        oid = int(req.params["oid"])
        return self.page(req, "Success Page", f"<h1>Thank you for your purchase!</h1><p>Your order number is: "
                                              f'<a href="/sales/order/view/order_id/{oid}/">{oid:09d}</a></p>')

    def _order(self, oid: int) -> dict | None:
        return next((o for o in self.data.orders if int(o["increment_id"]) == oid), None)

    def order_history(self, req: Request) -> Response:
        if (r := self._need_user(req)) is not None:
            return r
        rows = "".join(f'<tr><td><a href="/sales/order/view/order_id/{int(o["increment_id"])}/">{o["increment_id"]}'
                       f'</a></td><td>{o["created_at"][:10]}</td><td>{o["status"]}</td></tr>'
                       for o in self.data.orders if o["customer"] == req.user)
        return self.page(req, "My Orders", f'<h1>My Orders</h1><table><tr><th>Order #</th><th>Date</th>'
                                           f'<th>Status</th></tr>{rows}</table>')

    def order_view(self, req: Request) -> Response:
        order = self._order(int(req.params["oid"]))
        if order is None or order["customer"] != req.user:
            return not_found()
        items = "".join(f"<tr><td>{esc(self.data.product(pid).name)}</td><td>{qty}</td></tr>"
                        for pid, qty in order["items"])
        return self.page(req, f"Order # {order['increment_id']}",
                         f'<h1>Order # {order["increment_id"]}</h1><p>Status: {order["status"]}</p>'
                         f'<table class="order-details-items"><tr><th>Product Name</th><th>Qty</th></tr>{items}'
                         f"</table>")

    def wishlist_add(self, req: Request) -> Response:
        if (r := self._need_user(req)) is not None:
            return r
        pid = int(req.form.get("pid", 0))
        items = self.data.wishlists.setdefault(req.user, [])
        if self.data.product(pid) and pid not in items:
            items.append(pid)
        return redirect("/wishlist/")

    def wishlist(self, req: Request) -> Response:
        if (r := self._need_user(req)) is not None:
            return r
        items = "".join(self._item(self.data.product(pid)) for pid in self.data.wishlists.get(req.user, []))
        return self.page(req, "My Wish List", f'<h1>My Wish List</h1><ul class="wishlist">{items}</ul>')

    def review_post(self, req: Request) -> Response:
        p = self.data.product(int(req.form.get("pid", 0)))
        if p is None:
            return not_found()
        try:
            stars = int(req.form.get("stars") or 0)
        except ValueError:
            stars = 0
        if stars and req.form.get("nickname"):
            p.reviews.append({"nickname": req.form["nickname"], "stars": stars,
                              "summary": req.form.get("summary", ""), "text": req.form.get("text", "")})
        return redirect(f"/{p.slug}.html")

    def login_form(self, req: Request) -> Response:
        return self.page(req, "Customer Login", '<h1>Customer Login</h1>'
                                                '<form method="post" action="/customer/account/loginPost/">'
                                                '<label for="email">Email</label> <input id="email" name="login" '
                                                'type="email"> <label for="pass">Password</label> '
                                                '<input id="pass" name="password" type="password"> '
                                                '<button type="submit">Sign In</button></form>')

    def login_post(self, req: Request) -> Response:
        token = self.log_in(req.form.get("login", ""), req.form.get("password", ""))
        return self.login_response(token, "/customer/account/") if token else redirect("/customer/account/login/")

    def account(self, req: Request) -> Response:
        if (r := self._need_user(req)) is not None:
            return r
        return self.page(req, "My Account", f"<h1>My Account</h1><p>Contact Information: {esc(req.user)}</p>")

    # --- REST ------------------------------------------------------------------------------------------------------
    def rest_token(self, req: Request) -> Response:
        body = req.json or {}
        if self.admin_accounts.get(body.get("username", "")) != body.get("password"):
            return as_json({"message": "The account sign-in was incorrect."}, 401)
        token = secrets.token_hex(16)
        self.data.tokens.add(token)
        return as_json(token)

    def _authorised(self, req: Request) -> bool:
        return req.headers.get("authorization", "").removeprefix("Bearer ") in self.data.tokens

    def rest_orders(self, req: Request) -> Response:
        if not self._authorised(req):
            return as_json({"message": "unauthorised"}, 401)
        orders = list(self.data.orders)
        if req.query.get("searchCriteria[sortOrders][0][field]") == "created_at":
            orders.sort(key=lambda o: o["created_at"],
                        reverse=req.query.get("searchCriteria[sortOrders][0][direction]") == "DESC")
        size = int(req.query.get("searchCriteria[pageSize]") or len(orders) or 1)
        items = [{"increment_id": o["increment_id"], "created_at": o["created_at"], "status": o["status"]}
                 for o in orders[:size]]
        return as_json({"items": items, "total_count": len(orders)})

    def rest_reviews(self, req: Request) -> Response:
        if not self._authorised(req):
            return as_json({"message": "unauthorised"}, 401)
        p = self.data.by_sku(req.params["sku"])
        if p is None:  # the stand-in's catalogue is small: a product it lacks has no reviews
            return as_json([])
        return as_json([{"nickname": r["nickname"], "title": r["summary"], "detail": r["text"],
                         "ratings": [{"rating_name": "Rating", "percent": r["stars"] * 20, "value": r["stars"]}]}
                        for r in p.reviews])


class Admin(Site):
    name = "admin"
    prefix = "/admin"

    def __init__(self, accounts: dict[str, str], data: ShopData) -> None:
        self.data = data
        super().__init__(accounts)

    def routes(self) -> None:
        self.add("GET", r"/?", self.entry)
        self.add("POST", r"/login", self.login_post)
        self.add("GET", r"/dashboard/", self.dashboard)
        self.add("GET", r"/catalog/product/", self.grid)
        self.add("GET", r"/catalog/product/edit/id/(?P<pid>\d+)/", self.edit)
        self.add("POST", r"/catalog/product/save/id/(?P<pid>\d+)/", self.save)

    def page(self, title: str, main: str, message: str = "") -> Response:
        p = self.prefix
        nav = (f'<nav aria-label="Admin menu"><a href="{p}/dashboard/">Dashboard</a> '
               f'<a href="{p}/catalog/product/">Catalog Products</a></nav>')
        note = f'<div role="status" class="message-success">{esc(message)}</div>' if message else ""
        return Response(body=document(f"{title} / Magento Admin", f"<header>{nav}</header><main>{note}{main}</main>"))

    def entry(self, req: Request) -> Response:
        if req.user:
            return redirect(f"{self.prefix}/dashboard/")
        return Response(body=document("Magento Admin", f'<main><h1>Welcome, please sign in</h1>'
                                      f'<form method="post" action="{self.prefix}/login">'
                                      '<input name="username" placeholder="user name" aria-label="Username"> '
                                      '<input name="password" type="password" placeholder="password" '
                                      'aria-label="Password"> <button type="submit">Sign in</button></form></main>'))

    def login_post(self, req: Request) -> Response:
        token = self.log_in(req.form.get("username", ""), req.form.get("password", ""))
        return self.login_response(token, f"{self.prefix}/dashboard/") if token else redirect(f"{self.prefix}/")

    def _guard(self, req: Request) -> Response | None:
        return None if req.user else redirect(f"{self.prefix}/")

    def dashboard(self, req: Request) -> Response:
        if (r := self._guard(req)) is not None:
            return r
        best = sorted(self.data.products, key=lambda p: -p.sold_2022)[:5]
        rows = "".join(f"<tr><td>{esc(p.name)}</td><td>{money(p.price)}</td><td>{p.sold_2022}</td></tr>"
                       for p in best)
        return self.page("Dashboard", f"<h1>Dashboard</h1><h2>Bestsellers 2022</h2><table><tr><th>Product</th>"
                                      f"<th>Price</th><th>Quantity</th></tr>{rows}</table>")

    def grid(self, req: Request) -> Response:
        if (r := self._guard(req)) is not None:
            return r
        rows = "".join(f'<tr><td>{p.pid}</td><td>{esc(p.name)}</td><td>{p.sku}</td><td>{money(p.price)}</td>'
                       f'<td><a href="{self.prefix}/catalog/product/edit/id/{p.pid}/" aria-label="Edit {esc(p.name)}">'
                       f"Edit</a></td></tr>" for p in self.data.products)
        return self.page("Products", f"<h1>Products</h1><table><tr><th>ID</th><th>Name</th><th>SKU</th>"
                                     f"<th>Price</th><th>Action</th></tr>{rows}</table>")

    def edit(self, req: Request) -> Response:
        if (r := self._guard(req)) is not None:
            return r
        p = self.data.product(int(req.params["pid"]))
        if p is None:
            return not_found()
        return self.page(p.name, f'<h1>{esc(p.name)}</h1><form method="post" '
                                 f'action="{self.prefix}/catalog/product/save/id/{p.pid}/">'
                                 f'<label for="name">Product Name</label> <input id="name" name="product[name]" '
                                 f'value="{esc(p.name)}" size="50"> <label for="price">Price</label> '
                                 f'<input id="price" name="product[price]" value="{p.price:.2f}"> '
                                 '<button type="submit">Save</button></form>', req.query.get("saved") and
                         "You saved the product." or "")

    def save(self, req: Request) -> Response:
        if (r := self._guard(req)) is not None:
            return r
        p = self.data.product(int(req.params["pid"]))
        if p is None:
            return not_found()
        try:
            p.price = round(float(req.form.get("product[price]", "").replace("$", "")), 2)
        except ValueError:
            pass
        p.name = req.form.get("product[name]") or p.name
        return redirect(f"{self.prefix}/catalog/product/edit/id/{p.pid}/?saved=1")

