"""What the DB tests share: reading the MariaDB server as its administrator."""
from __future__ import annotations

from envs.dbbench.database import connect


def admin_rows(info, sql, params=()):
    cnx = connect(info)
    try:
        cur = cnx.cursor()
        cur.execute(sql, params)
        return cur.fetchall()
    finally:
        cnx.close()
