// Reads WARC files and their CDXJ index with warcio (webrecorder's reader) and checks them:
// every record parses, block and payload digests verify (the payload without its chunked
// framing), request and response records name each other, revisits refer to an earlier
// payload, and every index line points at the gzip member of its record.
// Usage: node check_warc.mjs [--crashed] INDEX.cdxj FILE.warc.gz...   Prints a JSON summary;
// exit 1 when there are problems (listed on stderr). --crashed: the files of a killed writer,
// whose last file may end in a record cut short (and its request without a response): that
// tail is ignored, but only at the very end.
import { WARCParser, AsyncIterReader } from "warcio";
import crypto from "node:crypto";
import fs from "node:fs";
import path from "node:path";
import zlib from "node:zlib";

const args = process.argv.slice(2);
const crashed = args[0] === "--crashed";
const [indexPath, ...files] = crashed ? args.slice(1) : args;
let problems = [];
const problem = (text) => problems.push(text);

function base32(bytes) {
  const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";
  let bits = 0, value = 0, out = "";
  for (const b of bytes) {
    value = (value << 8) | b;
    bits += 8;
    while (bits >= 5) {
      out += alphabet[(value >>> (bits - 5)) & 31];
      bits -= 5;
    }
  }
  if (bits > 0) out += alphabet[(value << (5 - bits)) & 31];
  while (out.length % 8) out += "=";
  return out;
}
const sha1 = (bytes) => "sha1:" + base32(crypto.createHash("sha1").update(bytes).digest());

function httpHeaders(block) {
  const end = Buffer.from(block.buffer, block.byteOffset, block.byteLength).indexOf("\r\n\r\n");
  const text = Buffer.from(block.subarray(0, end)).toString("latin1");
  const headers = new Map();
  for (const line of text.split("\r\n").slice(1)) {
    const colon = line.indexOf(":");
    if (colon > 0) headers.set(line.slice(0, colon).trim().toLowerCase(), line.slice(colon + 1).trim());
  }
  return { statusLine: text.split("\r\n")[0], headers, body: block.subarray(end + 4) };
}

const records = new Map(); // "file offset" -> record facts
const byId = new Map();
const payloads = new Map(); // payload digest -> first response's URI
const summary = { files: files.length, records: 0, warcinfo: 0, requests: 0, responses: 0, revisits: 0, indexed: 0 };

for (const file of files) {
  const parser = new WARCParser(fs.createReadStream(file), { parseHttp: false });
  let first = true;
  const lastFile = file === files[files.length - 1];
  let lastKey = null; // the file's last record, and the problems before it
  let problemsBefore = problems.length;
  try {
    for await (const record of parser) {
      const offset = parser.offset;
      problemsBefore = problems.length;
      lastKey = `${path.basename(file)} ${offset}`;
      const block = await record.readFully(false);
      const h = (name) => record.warcHeader(name);
      const type = record.warcType;
      const where = `${path.basename(file)}@${offset} (${type} ${h("WARC-Target-URI") || ""})`;
      summary.records++;
      if (first && type !== "warcinfo") problem(`${where}: a file must start with warcinfo`);
      first = false;
      if (record.warcHeaders.protocol !== "WARC/1.1" && !String(record.warcHeaders.statusline).startsWith("WARC/1.1"))
        problem(`${where}: not WARC/1.1`);
      if (Number(h("Content-Length")) !== block.length) problem(`${where}: Content-Length ${h("Content-Length")} != ${block.length}`);
      if (h("WARC-Block-Digest") !== sha1(block)) problem(`${where}: block digest ${h("WARC-Block-Digest")} != ${sha1(block)}`);
      if (!h("WARC-Record-ID") || !h("WARC-Date")) problem(`${where}: no record id or date`);
      const facts = { type, uri: h("WARC-Target-URI"), id: h("WARC-Record-ID"), concurrent: h("WARC-Concurrent-To"), payload: h("WARC-Payload-Digest") };
      records.set(`${path.basename(file)} ${offset}`, facts);
      byId.set(facts.id, facts);
      if (type === "warcinfo") {
        summary.warcinfo++;
      } else if (type === "request") {
        summary.requests++;
        if (!Buffer.from(block).toString("latin1").match(/^GET \S+ HTTP\/1\.1\r\n/)) problem(`${where}: not an HTTP/1.1 request`);
      } else if (type === "response") {
        summary.responses++;
        const { statusLine, headers, body } = httpHeaders(block);
        if (!statusLine.startsWith("HTTP/1.1 ")) problem(`${where}: status line '${statusLine}'`);
        let payload = body;
        if ((headers.get("transfer-encoding") || "").toLowerCase().endsWith("chunked")) {
          const reader = new AsyncIterReader([body], null, true);
          payload = await reader.readFully();
          if (reader.errored) problem(`${where}: bad chunked framing`);
        }
        if (facts.payload !== sha1(payload)) problem(`${where}: payload digest ${facts.payload} != ${sha1(payload)}`);
        if (!payloads.has(facts.payload)) payloads.set(facts.payload, facts.uri);
      } else if (type === "revisit") {
        summary.revisits++;
        if (h("WARC-Profile") !== "http://netpreserve.org/warc/1.1/revisit/identical-payload-digest") problem(`${where}: profile ${h("WARC-Profile")}`);
        if (!h("WARC-Refers-To-Target-URI") || !h("WARC-Refers-To-Date")) problem(`${where}: refers to nothing`);
        if (!httpHeaders(block).statusLine.startsWith("HTTP/1.1 ")) problem(`${where}: no response head`);
      } else {
        problem(`${where}: unexpected record type`);
      }
    }
  } catch (e) {
    problem(`${file}: unreadable after ${summary.records} records: ${e.message}`);
  }
  if (crashed && lastFile && problems.length > problemsBefore) {
    // The record being written when the writer was killed: not one of the complete ones.
    problems = problems.slice(0, problemsBefore);
    const cut = records.get(lastKey);
    if (cut) {
      records.delete(lastKey);
      summary[{ request: "requests", response: "responses", revisit: "revisits" }[cut.type]]--;
    }
    summary.cut = true;
  }
  if (crashed && lastFile) {
    // A request whose response was being written when the writer was killed.
    const keys = [...records.keys()].filter((k) => k.startsWith(path.basename(file) + " "));
    const last = records.get(keys[keys.length - 1]);
    if (last && last.type === "request" && !byId.has(last.concurrent)) {
      records.delete(keys[keys.length - 1]);
      summary.requests--;
    }
  }
}

// Pairs, and revisits of payloads seen (before a resume the first capture may be in an earlier run).
for (const r of records.values()) {
  if (r.type === "request" || r.type === "response" || r.type === "revisit") {
    const other = byId.get(r.concurrent);
    if (!other) problem(`${r.type} ${r.uri}: WARC-Concurrent-To ${r.concurrent} names no record`);
    else if (other.uri !== r.uri || other.concurrent !== r.id) problem(`${r.type} ${r.uri}: its pair does not name it back`);
  }
  if (r.type === "revisit" && !payloads.has(r.payload)) problem(`revisit ${r.uri}: no response with payload ${r.payload}`);
}

// The index: every response and revisit once, each line at its record's member.
const buffers = new Map(files.map((f) => [path.basename(f), fs.readFileSync(f)]));
const indexed = new Set();
for (const line of fs.readFileSync(indexPath, "utf8").split("\n").filter(Boolean)) {
  const json = JSON.parse(line.slice(line.indexOf("{")));
  const key = `${json.filename} ${json.offset}`;
  const r = records.get(key);
  summary.indexed++;
  if (!r) { problem(`index line for ${json.url}: no record at ${key}`); continue; }
  if (r.uri !== json.url || r.payload !== json.digest) problem(`index line for ${json.url}: the record at ${key} is ${r.uri}`);
  if ((r.type === "revisit") !== (json.mime === "warc/revisit")) problem(`index line for ${json.url}: mime ${json.mime} for a ${r.type}`);
  const member = buffers.get(json.filename).subarray(Number(json.offset), Number(json.offset) + Number(json.length));
  let text = "";
  try { text = zlib.gunzipSync(member).toString("latin1"); } catch (e) { problem(`index line for ${json.url}: length ${json.length} is not one gzip member`); continue; }
  const head = text.slice(0, text.indexOf("\r\n\r\n") + 4);
  const length = Number((head.match(/\r\nContent-Length: (\d+)\r\n/) || [])[1]);
  if (head.length + length + 4 !== text.length) problem(`index line for ${json.url}: length ${json.length} does not cover exactly one record`);
  indexed.add(key);
}
// A killed writer may have written its last record but not that record's index line.
const lastFileKeys = [...records.keys()].filter((k) => files.length && k.startsWith(path.basename(files[files.length - 1]) + " "));
const mayLackIndex = crashed ? lastFileKeys[lastFileKeys.length - 1] : null;
for (const [key, r] of records) {
  if ((r.type === "response" || r.type === "revisit") && !indexed.has(key) && key !== mayLackIndex) problem(`${r.type} ${r.uri} at ${key}: not in the index`);
}

console.log(JSON.stringify(summary));
if (problems.length) {
  for (const p of problems.slice(0, 50)) console.error(p);
  console.error(`${problems.length} problem(s)`);
  process.exit(1);
}
