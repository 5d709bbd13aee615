"""Corpus files -> Documents: txt, md, html, jsonl and pdf readers, normalisation, and the reasons a
file is dropped (empty, binary, encoding, malformed, too large, unsupported, quality, outside,
not_regular). Reads are bounded: only regular files, never more than ``ingest.max_bytes``."""

from __future__ import annotations

import errno
import json
import re
import unicodedata
from html.parser import HTMLParser
from pathlib import Path, PurePath
from typing import Any

from ..hashing import digest_bytes
from ..project import CORPUS_SUFFIXES
from ..records import Document, Dropped, MinHash, make

_MD_LINK = re.compile(r"!?\[([^\]]*)\]\([^)]*\)")
_MD_EMPH = re.compile(r"(\*\*|__|\*|`)")
# literal prefixes ("  ", "\n\n\n") let the regex engine skip ahead with a fast search: a character
# class such as [ \t]+ tries every single space between words, at about a tenth of the speed
_SPACES = re.compile("  +")
_BLANKS = re.compile("\n\n\n+")
_CONTROL = dict.fromkeys(c for c in range(32) if c not in (9, 10))
_CONTROL_BYTES = bytes(_CONTROL)
_TAB_TO_SPACE = bytes.maketrans(b"\t", b" ")
_SPACES_BYTES = re.compile(b"  +")


def normalise(text: str) -> str:
    """NFKC; CR and CRLF as LF; control characters but tab and LF removed; tabs and no-break
    spaces as spaces, runs of spaces as one; lines stripped; at most one blank line in a row.

    Each rewrite runs only where a scan finds something for it to do, and all-ASCII text (most
    prose) goes through bytes: one ``bytes.translate`` turns tabs into spaces and deletes control
    characters, and doubled spaces are looked for with numpy (``"  " in text`` tests every space).
    """
    text = unicodedata.normalize("NFKC", text)
    if "\r" in text:
        text = text.replace("\r\n", "\n").replace("\r", "\n")
    if text.isascii():
        data = text.encode("ascii").translate(_TAB_TO_SPACE, _CONTROL_BYTES)
        if _doubled_space(data):
            data = _SPACES_BYTES.sub(b" ", data)
        text = data.decode("ascii")
    else:
        text = text.translate(_CONTROL).replace("\t", " ").replace("\u00a0", " ")
        if "  " in text:  # one pass over the whole text (the pattern never crosses a newline)
            text = _SPACES.sub(" ", text)
    lines = list(map(str.strip, text.split("\n")))
    text = "\n".join(lines)
    if lines.count("") > 1:  # a run of three newlines needs two empty lines
        text = _BLANKS.sub("\n\n", text)
    return text.strip()


def _doubled_space(data: bytes) -> bool:
    import numpy as np

    space = np.frombuffer(data, dtype=np.uint8) == 32
    return bool(np.count_nonzero(space[1:] & space[:-1]))


def markdown_to_text(text: str) -> str:
    out, fenced = [], False
    for line in text.split("\n"):
        if line.strip().startswith("```"):
            fenced = not fenced
            continue
        if not fenced:
            out.append(_MD_EMPH.sub("", _MD_LINK.sub(r"\1", line)))
    return "\n".join(out)


class _HTMLText(HTMLParser):
    BLOCK = {"p", "div", "br", "li", "h1", "h2", "h3", "h4", "h5", "h6", "tr", "section", "article"}

    def __init__(self) -> None:
        super().__init__()
        self.parts: list[str] = []
        self.skip = 0
        self.title = ""
        self._in_title = False

    def handle_starttag(self, tag, attrs):
        if tag in ("script", "style"):
            self.skip += 1
        elif tag == "title":
            self._in_title = True
        elif tag in self.BLOCK:
            self.parts.append("\n\n")
        if tag == "h1":
            self.parts.append("# ")

    def handle_endtag(self, tag):
        if tag in ("script", "style"):
            self.skip = max(0, self.skip - 1)
        elif tag == "title":
            self._in_title = False
        elif tag in self.BLOCK:
            self.parts.append("\n\n")

    def handle_data(self, data):
        if self._in_title:
            self.title += data
        elif not self.skip:
            self.parts.append(data.replace("\n", " "))


def html_to_text(raw: str) -> tuple[str, str]:
    parser = _HTMLText()
    parser.feed(raw)
    return "".join(parser.parts), parser.title.strip()


def pdf_to_text(data: bytes) -> str:
    import io

    from pypdf import PdfReader  # a core dependency, imported only when a PDF is read

    reader = PdfReader(io.BytesIO(data))
    return "\n\n".join((page.extract_text() or "") for page in reader.pages)


def decode(data: bytes) -> str:
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        return data.decode("utf-16")
    return data.decode("utf-8-sig")


def title_of(text: str, fallback: str) -> str:
    for line in _lines(text):
        if line.startswith("# "):
            return line[2:].strip()
        if line.strip():
            return line.strip()[:80]
    return fallback


def _lines(text: str):
    """The lines of ``text``, as text.split("\n") gives them, one at a time (a title needs the first few)."""
    start = 0
    while (end := text.find("\n", start)) >= 0:
        yield text[start:end]
        start = end + 1
    yield text[start:]


def load(path: Path, max_bytes: int) -> bytes | list:
    """The file's bytes, or why they cannot be had: ["too_large", size], ["not_regular", what] or
    ["unreadable", why] (such a file is keyed by that, so it is tried again once it changes).

    Only a regular file is opened (a FIFO would block, a device never end), and never more than
    ``max_bytes`` + 1 bytes are read, whatever its size claims to be."""
    import os
    import stat

    try:
        if not stat.S_ISREG(os.stat(path).st_mode):
            from ..project import _special

            return ["not_regular", _special(os.stat(path).st_mode)]
        fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK | getattr(os, "O_CLOEXEC", 0))
        try:
            st = os.fstat(fd)  # what was opened, in case the entry changed since the stat
            if not stat.S_ISREG(st.st_mode):
                from ..project import _special

                return ["not_regular", _special(st.st_mode)]
            if st.st_size > max_bytes:
                return ["too_large", st.st_size]
            parts, total = [], 0
            while True:
                block = os.read(fd, min(1 << 20, max_bytes + 1 - total))
                if not block:
                    break
                parts.append(block)
                total += len(block)
                if total > max_bytes:
                    return ["too_large", f"more than {max_bytes}"]
            return b"".join(parts)
        finally:
            os.close(fd)
    except OSError as exc:
        return ["unreadable", "symlink loop" if exc.errno == errno.ELOOP else (exc.strerror or str(exc))]


def _utf16_without_bom(head: bytes) -> bool:
    """Text in UTF-16 with no byte-order mark: nearly every other byte NUL (the high byte of
    Latin text), the bytes between them not; a binary file's NULs fall anywhere."""
    even, odd = head[0::2], head[1::2]
    if len(odd) < 16:
        return False
    for zeros, chars in ((odd, even), (even, odd)):  # little-endian, big-endian
        if zeros.count(0) >= 0.9 * len(zeros) and chars.count(0) <= 0.05 * len(chars):
            return True
    return False


def read_unit(unit: tuple, *, cfg) -> list[Any]:
    """One file's records (a memo unit): its Documents with their MinHash signatures, or Dropped."""
    return read_file(*unit, cfg=cfg)


def read_file(discipline: str, rel: str, path: str | Path, data: bytes | list, *, cfg) -> list[Any]:
    def drop(reason: str, detail: str, where: str = rel) -> Dropped:
        return make(Dropped, discipline=discipline, path=where, reason=reason, detail=detail)

    suffix = PurePath(path).suffix.lower()
    if not isinstance(data, bytes):
        reason, what = data
        if reason == "too_large":
            return [drop("too_large", f"{what} bytes > ingest.max_bytes={cfg.max_bytes}; split the file or raise the limit")]
        if reason == "outside":
            return [drop("outside", f"{what}; only files inside the project are specs — copy the file in, "
                                    "or name its folder in ingest.roots")]
        if reason == "not_regular":
            return [drop("not_regular", f"{what}, not a regular file; only regular files are read")]
        if what in ("a symlink loop", "a dangling link"):
            return [drop("unreadable", f"cannot read: {what}; point the link at a file or remove it")]
        return [drop("unreadable", f"cannot read: {what}; fix its permissions or remove it")]
    if not data.strip():
        return [drop("empty", "the file is empty; add text or remove it")]
    if suffix not in CORPUS_SUFFIXES:
        return [drop("unsupported", f"unsupported file type {suffix or '(none)'}; use txt, md, html, jsonl or pdf")]
    if suffix == ".pdf":
        try:
            texts = [(rel, pdf_to_text(data), "")]
        except Exception as exc:  # pypdf raises many types on broken files
            return [drop("malformed", f"unreadable PDF: {exc}")]
    elif suffix == ".jsonl":  # line by line: a bad line drops that line, not the file
        texts, bad = _jsonl_texts(rel, data)
        out_bad = [drop(reason, detail, where) for where, reason, detail in bad]
        return out_bad + [r for where, body, title in texts
                          for r in _document(discipline, where, body, title, data, cfg, drop)]
    else:
        if b"\x00" in data[:8192] and not data.startswith((b"\xff\xfe", b"\xfe\xff")):
            if _utf16_without_bom(data[:8192]):
                return [drop("encoding", "UTF-16 text without a byte-order mark; re-save the file as UTF-8")]
            return [drop("binary", "binary content (NUL bytes); only text, markdown, html, jsonl and pdf are read")]
        try:
            raw = decode(data)
        except UnicodeDecodeError as exc:
            return [drop("encoding", f"not valid UTF-8 at byte {exc.start}; re-save the file as UTF-8")]
        if suffix in (".html", ".htm"):
            body, title = html_to_text(raw)
            texts = [(rel, body, title)]
        elif suffix in (".md", ".markdown"):
            texts = [(rel, markdown_to_text(raw), "")]
        else:
            texts = [(rel, raw, "")]
    out: list[Any] = []
    for where, body, title in texts:
        out.extend(_document(discipline, where, body, title, data, cfg, drop))
    return out


def _jsonl_texts(rel: str, data: bytes):
    """(where, text, title) of every good line, and (where, reason, detail) of every bad one."""
    texts, bad = [], []
    if data.startswith(b"\xef\xbb\xbf"):
        data = data[3:]
    for number, line in enumerate(data.split(b"\n"), start=1):
        if not line.strip():
            continue
        where = f"{rel}#L{number}"
        if b"\x00" in line:
            bad.append((where, "binary", f"line {number}: NUL bytes; fix or remove the line"))
            continue
        try:
            obj = json.loads(line.decode("utf-8"))
        except UnicodeDecodeError as exc:
            bad.append((where, "encoding", f"line {number}: not valid UTF-8 at byte {exc.start}; re-save it as UTF-8"))
            continue
        except json.JSONDecodeError as exc:
            bad.append((where, "malformed", f"line {number}: not JSON ({exc.msg}); fix or remove the line"))
            continue
        if not isinstance(obj, dict) or not isinstance(obj.get("text"), str):
            bad.append((where, "malformed", f"line {number}: expected an object with a string 'text' field"))
            continue
        texts.append((where, obj["text"], str(obj.get("title", ""))))
    return texts, bad


def _document(discipline, where, body, title, data, cfg, drop):
    text = normalise(body)
    if not text:
        return [drop("empty", "no text after normalisation", where)]
    from .quality import assess

    verdict, signature, words = assess(text, cfg)
    if verdict:
        return [drop("quality", verdict, where)]
    return [make(Document, discipline=discipline, path=where, title=title or title_of(text, where),
                 text=text, source_hash=digest_bytes(data), words=words),
            make(MinHash, path=where, signature=signature.astype("<u8").tobytes())]
