#!/usr/bin/env python3
"""Writes cli/hot_functions.txt: the sections of the functions a crawl and a download run, for
the flagcrawl link's --section-ordering-file (cli/CMakeLists.txt). Not run by ctest.

    tests/bench/hot_functions.py BUILD_DIR [OUTPUT]

Runs `BUILD_DIR/flagcrawl crawl` of a `flagcrawl serve --site` (loopback, port 0) under
callgrind, then the same crawl on one CPU (no parse pool, as the bench harness runs it) through a
relay that answers `text/html` without a charset (as nginx does by default: the crawl then reads
the charset from the page), then an async `download` of the crawl's pages, maps every
instruction executed in the flagcrawl binary to its function (nm) and writes one section name per
function, sorted by name (a regenerated list then differs only where the code did). Why: the kernel maps a program's text around each page it faults in (64 KiB at a time), so
a run's resident code is every 64 KiB window that holds one function it runs; with the functions
a run needs side by side, a crawl keeps about 2 MiB less of flagcrawl resident (ARCHITECTURE.md,
"Memory"). A function missing from the list (new code) only sits elsewhere: the order never
changes what the program does. Needs valgrind; takes a few minutes.
"""
import bisect
import http.client
import http.server
import os
import re
import sqlite3
import subprocess
import sys
import tempfile
import threading


def executed_addresses(callgrind_out, binary_name):
    """Instruction addresses callgrind saw executed in the object named binary_name."""
    objects, current, last, addresses = {}, None, 0, set()
    with open(callgrind_out) as f:
        for line in f:
            # An object's name is given once, at its first ob= or cob= (called object) line.
            m = re.match(r"c?ob=\((\d+)\)(?: (.*))?", line.strip())
            if m:
                if m.group(2):
                    objects[m.group(1)] = m.group(2)
                if line.startswith("ob="):
                    current = objects[m.group(1)]
                continue
            if not line[:1] or line[0] not in "0123456789+-*":
                continue
            token = line.split()[0]
            if token.startswith("0x"):
                last = int(token, 16)
            elif token[0] == "+":
                last += int(token[1:])
            elif token[0] == "-":
                last -= int(token[1:])
            elif token != "*":
                continue
            if current and os.path.basename(current) == binary_name:
                addresses.add(last)
    return addresses


def function_symbols(binary):
    """(start, end, name) of every defined function, sorted by start."""
    out = subprocess.run(["nm", "-S", "--defined-only", binary], check=True, text=True,
                         stdout=subprocess.PIPE).stdout
    symbols = []
    for line in out.splitlines():
        parts = line.split()
        if len(parts) == 4 and parts[2] in "tTwW":
            start, size = int(parts[0], 16), int(parts[1], 16)
            if size:
                symbols.append((start, start + size, parts[3]))
    symbols.sort()
    return symbols


def section_of(name):
    """The section GCC's -ffunction-sections gives a function of this symbol name."""
    if name.endswith(".cold"):
        return ".text.unlikely." + name[: -len(".cold")]
    if name == "main" or name.startswith("_GLOBAL__sub_I_"):
        return ".text.startup." + name
    return ".text." + name


def start_charsetless_relay(upstream_port):
    """A loopback server (port 0) relaying GETs to the site, its HTML as `text/html` alone."""

    class Relay(http.server.BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def do_GET(self):
            upstream = http.client.HTTPConnection("127.0.0.1", upstream_port, timeout=30)
            upstream.request("GET", self.path)
            reply = upstream.getresponse()
            body = reply.read()
            upstream.close()
            self.send_response(reply.status)
            for name, value in reply.getheaders():
                if name.lower() == "content-type" and value.startswith("text/html"):
                    value = "text/html"
                if name.lower() not in ("content-length", "connection", "date", "server"):
                    self.send_header(name, value)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args):
            pass

    relay = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Relay)
    relay.daemon_threads = True
    threading.Thread(target=relay.serve_forever, daemon=True).start()
    return relay


def one_cpu():
    """For a child process: run on one CPU, as the bench harness pins its crawls."""
    os.sched_setaffinity(0, {min(os.sched_getaffinity(0))})


def run_profiles(flagcrawl, work):
    server = subprocess.Popen([flagcrawl, "serve", "--site", "2000", "--port", "0"],
                              stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        port = None
        for line in server.stdout:
            m = re.search(r"127\.0\.0\.1:(\d+)", line)
            if m:
                port = m.group(1)
                break
        if port is None:
            sys.exit("hot_functions.py: flagcrawl serve printed no port")
        db = os.path.join(work, "crawl.db")
        grind = ["timeout", "-k", "5", "1800", "valgrind", "--tool=callgrind", "--dump-instr=yes"]
        subprocess.run(grind + ["--callgrind-out-file=" + os.path.join(work, "crawl.out"),
                                flagcrawl, "crawl", "http://127.0.0.1:%s/index.html" % port,
                                "--db", db, "-c", "64"],
                       check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        relay = start_charsetless_relay(int(port))
        try:
            subprocess.run(grind + ["--callgrind-out-file=" + os.path.join(work, "plain.out"),
                                    flagcrawl, "crawl",
                                    "http://127.0.0.1:%d/index.html" % relay.server_port,
                                    "--db", os.path.join(work, "plain.db"), "-c", "64"],
                           check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                           preexec_fn=one_cpu)
        finally:
            relay.shutdown()
        urls = os.path.join(work, "urls.txt")
        with open(urls, "w") as f:
            pages = "SELECT url FROM pages WHERE kind = 'page' ORDER BY url"
            for (url,) in sqlite3.connect(db).execute(pages):
                f.write(url + "\n")
        subprocess.run(grind + ["--callgrind-out-file=" + os.path.join(work, "download.out"),
                                flagcrawl, "download", "-i", urls, "-o",
                                os.path.join(work, "files"), "--db",
                                os.path.join(work, "download.db"), "--keep-paths",
                                "--strategy", "async",
                                "-c", "64"],
                       check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    finally:
        server.terminate()
        server.wait()
    return [os.path.join(work, name) for name in ("crawl.out", "plain.out", "download.out")]


def main():
    if len(sys.argv) not in (2, 3):
        sys.exit(__doc__)
    flagcrawl = os.path.realpath(os.path.join(sys.argv[1], "flagcrawl"))
    here = os.path.dirname(os.path.realpath(__file__))
    output = sys.argv[2] if len(sys.argv) == 3 else os.path.join(here, "..", "..", "cli",
                                                                   "hot_functions.txt")
    symbols = function_symbols(flagcrawl)
    starts = [s for s, _, _ in symbols]
    with tempfile.TemporaryDirectory() as work:
        executed = set()
        for profile in run_profiles(flagcrawl, work):
            for address in executed_addresses(profile, os.path.basename(flagcrawl)):
                i = bisect.bisect_right(starts, address) - 1
                if i >= 0 and address < symbols[i][1]:
                    executed.add(symbols[i][2])
    ordered = sorted(executed)
    with open(output, "w") as f:
        f.write("# Generated by tests/bench/hot_functions.py: the sections of the functions a crawl\n"
                "# and a download run, for the flagcrawl link (cli/CMakeLists.txt).\n")
        for name in ordered:
            f.write(section_of(name) + "\n")
    print("%s: %d functions" % (output, len(ordered)))


if __name__ == "__main__":
    main()
