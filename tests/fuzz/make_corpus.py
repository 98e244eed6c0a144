#!/usr/bin/env python3
"""Writes the seed corpus of tests/fuzz/corpus/ (run from anywhere; the
committed files are its output).  Every seed is a small valid input: real
startup packets, psql's message sequences, the RFC 7677 SCRAM exchange,
sample ini, userlist and console lines."""
import base64
import os
import struct

HERE = os.path.dirname(os.path.abspath(__file__))


def msg(t, body=b""):
    return t + struct.pack("!I", len(body) + 4) + body


def startup(params, code=196608):
    body = struct.pack("!I", code)
    for k, v in params:
        body += k.encode() + b"\0" + v.encode() + b"\0"
    body += b"\0"
    return struct.pack("!I", len(body) + 4) + body


SSL = struct.pack("!II", 8, 80877103)
GSS = struct.pack("!II", 8, 80877104)
CANCEL = struct.pack("!IIII", 16, 80877102, 4242, 0x12345678)
PSQL = [("user", "app"), ("database", "app"), ("application_name", "psql"),
        ("client_encoding", "UTF8")]

C_FIRST = b"n,,n=user,r=rOprNGfwEbeRWgbNEkqO"
S_FIRST = (b"r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0,"
           b"s=W22ZaJ0SNY7soEsUEjb6gQ==,i=4096")
C_FINAL = (b"c=biws,r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0,"
           b"p=dHzbZapWIk4jUhN+Ute9ytag9zjfMHgsqmmiz7AndVQ=")
S_FINAL = b"v=6rriTRBi23WpRR/wtup+mMhUZUn/dB5nLTJRsjl95G4="
SECRET = (b"SCRAM-SHA-256$4096:W22ZaJ0SNY7soEsUEjb6gQ==$"
          b"WG5d8oPm3OtcPnkdi4Uo7BkeZkBFzpcXkuLmtbsT4qY=:"
          b"wfPLwcE6nTWhTAmQ7tl2KeoiWGPlZqQxSrmfPwDl2dU=")


def cstr(s):
    return s + b"\0"


def sasl_initial(data, mech=b"SCRAM-SHA-256"):
    return msg(b"p", cstr(mech) + struct.pack("!I", len(data)) + data)


def rfq(s=b"I"):
    return msg(b"Z", s)


def param(k, v):
    return msg(b"S", cstr(k) + cstr(v))


def auth(code, data=b""):
    return msg(b"R", struct.pack("!I", code) + data)


def error(sev, code, text, t=b"E"):
    return msg(t, b"S" + cstr(sev) + b"V" + cstr(sev) + b"C" + cstr(code) + b"M" +
               cstr(text) + b"\0")


def bind_execute():
    parse = msg(b"P", cstr(b"") + cstr(b"SELECT $1::int") + struct.pack("!HI", 1, 23))
    bind = msg(b"B", cstr(b"") + cstr(b"") + struct.pack("!HH", 0, 1) +
               struct.pack("!I", 1) + b"7" + struct.pack("!H", 0))
    return (parse + bind + msg(b"D", b"P\0") + msg(b"E", cstr(b"") + struct.pack("!I", 0)) +
            msg(b"S"))


SEEDS = {
    "startup": {
        "psql": startup(PSQL),
        "ssl_then_startup": SSL + startup(PSQL),
        "gss_ssl_startup": GSS + SSL + startup([("user", "fairway"), ("database", "pgbouncer")]),
        "cancel": CANCEL,
        "v3_2_pq_option": startup([("user", "app"), ("_pq_.compression", "on")],
                                  code=196610),
        "v2": startup([("user", "app")], code=131072),
        "options": startup([("user", "app"), ("options", "-c search_path=x"),
                            ("replication", "false"), ("DateStyle", "ISO, DMY")]),
    },
    "client": {
        "md5_login": startup(PSQL) + msg(b"p", cstr(b"md5a3556571e93b0d20722ba62be61e8c2d")),
        "scram_login": SSL + startup([("user", "user"), ("database", "app")]) +
                       sasl_initial(C_FIRST) + msg(b"p", C_FINAL),
        "plain_unknown_db": startup([("user", "plain"), ("database", "nosuch"),
                                     ("application_name", "x"), ("search_path", "a,b")]) +
                            msg(b"p", cstr(b"pencil")) + msg(b"Q", cstr(b"SELECT 1")),
        "console": startup([("user", "app"), ("database", "pgbouncer")]) +
                   msg(b"p", cstr(b"md5a3556571e93b0d20722ba62be61e8c2d")) +
                   msg(b"Q", cstr(b"SHOW POOLS")),
        "cancel": CANCEL,
        "pq_options": GSS + startup([("user", "app"), ("_pq_.x", "1"), ("options", "-c a=b")],
                                    code=196610),
        "bad_param": startup([("user", "app"), ("nosuchparam", "1")]),
    },
    "frontend": {
        "simple_query": msg(b"Q", cstr(b"SELECT 1")) + msg(b"X"),
        "console": msg(b"Q", cstr(b"SHOW POOLS;")) + msg(b"Q", cstr(b"SET pool_mode = 'session'")),
        "password": msg(b"p", cstr(b"apppass")),
        "md5": msg(b"p", cstr(b"md5a3556571e93b0d20722ba62be61e8c2d")),
        "scram": sasl_initial(C_FIRST) + msg(b"p", C_FINAL),
        "extended": bind_execute(),
        "copy_in": msg(b"Q", cstr(b"COPY t FROM STDIN")) + msg(b"d", b"1\t2\n") + msg(b"c"),
        "copy_fail": msg(b"d", b"x") + msg(b"f", cstr(b"aborted")) + msg(b"H") +
                     msg(b"F", struct.pack("!I", 1234)),
    },
    "backend": {
        "login_trust": auth(0) + param(b"server_version", b"16.4") +
                       param(b"client_encoding", b"UTF8") + param(b"DateStyle", b"ISO, MDY") +
                       msg(b"K", struct.pack("!II", 4242, 0x12345678)) + rfq(),
        "login_md5": auth(5, b"\x01\x02\x03\x04"),
        "login_cleartext": auth(3),
        "login_scram": auth(10, cstr(b"SCRAM-SHA-256-PLUS") + cstr(b"SCRAM-SHA-256") + b"\0") +
                       auth(11, S_FIRST) + auth(12, S_FINAL) + auth(0),
        "login_error": error(b"FATAL", b"28P01", b"password authentication failed for user \"app\""),
        "notice_rfq": error(b"NOTICE", b"00000", b"hello", t=b"N") + rfq(b"T") + rfq(b"E"),
        "negotiate": msg(b"v", struct.pack("!II", 0, 1) + cstr(b"_pq_.x")) + rfq(),
    },
    "scram": {
        "secret": b"\x00" + SECRET,
        "server": b"\x01" + C_FIRST + b"\xff" + C_FINAL,
        "server_y": b"\x01" + b"y" + C_FIRST[1:] + b"\xff" + C_FINAL.replace(b"biws", b"eSws"),
        # channel binding (third part): -PLUS chosen, bound to 32 zero bytes
        "server_plus": b"\x01" + b"p=tls-server-end-point" + C_FIRST[1:] + b"\xff" +
        C_FINAL.replace(b"biws", base64.b64encode(b"p=tls-server-end-point,," + bytes(32))) +
        b"\xff\x02",
        # "y,," while -PLUS was advertised: the downgrade
        "server_y_plus": b"\x01" + b"y" + C_FIRST[1:] + b"\xff" +
        C_FINAL.replace(b"biws", b"eSws") + b"\xff\x01",
        "mock": b"\x02" + C_FIRST + b"\xff" + C_FINAL,
        "client": b"\x03" + S_FIRST + b"\xff" + S_FINAL,
        "client_keys": b"\x04" + S_FIRST + b"\xff" + S_FINAL,
        "client_error": b"\x03" + S_FIRST + b"\xff" + b"e=invalid-proof",
        "b64": b"\x05" + b"W22ZaJ0SNY7soEsUEjb6gQ==",
        "md5": b"\x05" + b"md5a3556571e93b0d20722ba62be61e8c2d",
    },
    "connstr": {
        "db": b"host=127.0.0.1 port=5432 dbname=app",
        "quoted": b"host=db user=app password='it''s \\'x\\'' connect_query='SET a=1; SET b=2'",
        "pool": b"dbname=app pool_size=5 reserve_pool=2 max_db_connections=10 pool_mode=transaction",
        "spaces": b"  host = /var/run/postgresql   auth_user=x  ",
        "usec": b"120.5",
        "exp": b"1e3",
        "bool": b"on",
        "octal": b"0644",
        "choice": b"statement",
        "int": b"-3",
    },
    "config": {
        "minimal": b"[databases]\napp = host=127.0.0.1 port=5432 dbname=app\n"
                   b"[pgbouncer]\nlisten_port = 6432\nauth_type = md5\n"
                   b"auth_file = /nonexistent/userlist.txt\n",
        "fairway": b"[fairway]\nlisten_addr = *\npool_mode = transaction\ndefault_pool_size = 20\n"
                   b"query_wait_timeout = 120\nserver_lifetime = 3600.5\n"
                   b"track_extra_parameters = search_path\nfair_key = user\n"
                   b"[users]\napp = pool_mode=session max_user_connections=3\n"
                   b"[weights]\napp = 3\n",
        "fallback": b"[databases]\n* = host=db\nlong = host=db connect_query='SELECT 1'\n"
                    b"[peers]\n1 = host=10.0.0.1\n[pgbouncer]\nlisten_port=6432\n"
                    b"  indented = 1\nunknown_key = x\n",
        "include": b"%include /nonexistent.ini\n[pgbouncer]\nlisten_port = 1\n",
        "bad": b"[pgbouncer]\nlisten_port = 99999\npool_mode = nope\n[databases\n",
    },
    "authfile": {
        "userlist": b'"fairway" "fairway"\n"app" "md5240aeccb7a1d859a99844d012bfe74cc"\n',
        "scram": b';; comment\n# comment\n"user" "' + SECRET + b'"\n\n"q""uote" "pw" trailing\n',
        "bad": b'"unterminated\n"a"\n"b" "c"\r\n"dup" "1"\n"dup" "2"',
    },
    "params": {
        "plain": b"search_path\xffUTF8\xffLATIN1\xffISO, MDY\xff\xffUTC",
        "quotes": b"\xffit's\xff\xffback\\slash\xffx",
        "extras": b"search_path, extra_float_digits\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff"
                  b"\xff\xff\xff\xffpublic\xff\xff3",
    },
    "hba": {
        # auth_ident_file text, a NUL, then auth_hba_file text
        "basic": b"\0local all all peer\nhost all all 127.0.0.1/32 md5\n"
                 b"host all all ::1/128 scram-sha-256\nhostssl all all 0.0.0.0/0 cert\n",
        "maps": b"m root app\nre /^(.*)@example\\.com$ \\1\nany x all\n\0"
                b"local all all peer map=m\nhostssl \"my db\",sameuser +g,@users all cert map=re\n",
        "masks": b"\0host replication all 10.0.0.0 255.0.0.0 trust\n"
                 b"hostnossl all all fe80::/10 reject\nhost all all all password\n"
                 b"host all all 192.168.0.1/33 md5\nbad line\n",
    },
    "admin": {
        "show": b"SHOW POOLS;",
        "set": b"SET default_pool_size = 30",
        "set_quoted": b"set pool_mode='session';",
        "pause": b"PAUSE app",
        "kill_client": b"KILL_CLIENT 12",
        "histogram": b"SHOW HISTOGRAM app user",
        "shutdown": b"SHUTDOWN WAIT_FOR_CLIENTS",
        "set_timeout": b'SET query_wait_timeout = "0.5"',
    },
}


def main():
    for harness, seeds in SEEDS.items():
        d = os.path.join(HERE, "corpus", harness)
        os.makedirs(d, exist_ok=True)
        for name, data in seeds.items():
            with open(os.path.join(d, name), "wb") as f:
                f.write(data)


if __name__ == "__main__":
    main()
