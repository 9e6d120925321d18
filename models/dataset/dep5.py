"""Read a machine-readable debian/copyright file (DEP-5) and say which stanza covers a file.

Used by make_credits.py (author and licence per photo) and to check photo-sources.tsv against the
packages' own records.  Follows the copyright-format 1.0 rules that matter here: `Files:` holds
whitespace-separated patterns where `*` matches any run of characters (including "/") and `?` one
character, patterns are relative to the upstream source tree, and the **last** stanza whose
pattern matches wins.  Paths in a binary package are not source paths: the caller maps an
installed path to its source path (SOURCE_ROOTS below) before asking.
"""
import re


def parse(text):
    """DEP-5 text -> list of stanzas, each a dict with lower-case keys; continuation lines are
    joined with newlines ("." lines become empty lines), as the format specifies."""
    stanzas = []
    for block in re.split(r"\n[ \t]*\n", text.strip("\n")):
        d = {}
        key = None
        for ln in block.splitlines():
            if ln.startswith("#"):
                continue
            if ln[:1] in (" ", "\t"):
                if key is None:
                    continue
                s = ln.strip()
                d[key] += "\n" + ("" if s == "." else s)
                continue
            m = re.match(r"^([A-Za-z0-9-]+):[ \t]*(.*)$", ln)
            if not m:
                key = None
                continue
            key = m.group(1).lower()
            d[key] = m.group(2).strip()
        if d:
            stanzas.append(d)
    return stanzas


def _regex(pattern):
    out = []
    for ch in pattern:
        if ch == "*":
            out.append(".*")
        elif ch == "?":
            out.append(".")
        else:
            out.append(re.escape(ch))
    return re.compile("^" + "".join(out) + "$", re.S)


# Installed folder -> the folder of the upstream source tree it comes from, for the packages whose
# debian/copyright has per-file stanzas that name our photos.  Other packages' photos fall under
# their `Files: *` stanza whatever the mapping.
SOURCE_ROOTS = {
    "endless-sky-data": ("usr/share/games/endless-sky/", ""),
    "ufoai-textures": ("usr/share/games/ufoai/base/0textures.pk3:", "base/"),
    "supertuxkart-data": ("usr/share/games/supertuxkart/data/", "data/"),
    "lomiri-wallpapers-16.04": ("usr/share/backgrounds/", "16.04/"),
    "lomiri-wallpapers-20.04": ("usr/share/backgrounds/", "20.04/"),
    "mate-backgrounds": ("usr/share/backgrounds/mate/", ""),
}


def source_path(package, installed):
    """Installed path (with or without a leading "/"; "archive:member" for a file inside an
    archive) -> source path."""
    p = installed.lstrip("/")
    pre, src = SOURCE_ROOTS.get(package, ("", ""))
    if pre and p.startswith(pre):
        return src + p[len(pre):]
    return p


class Copyright:
    """A parsed debian/copyright with the `Files:` stanzas' patterns compiled."""

    def __init__(self, text):
        self.stanzas = parse(text)
        self.files = []  # (stanza, [(pattern, regex)])
        for st in self.stanzas:
            if "files" in st:
                pats = st["files"].split()
                self.files.append((st, [(p, _regex(p)) for p in pats]))
        self.licences = {}  # stand-alone License stanzas: short name -> full text
        for st in self.stanzas:
            if "license" in st and "files" not in st:
                name = st["license"].split("\n", 1)[0].strip()
                self.licences[name] = st["license"]

    def covering(self, source_path):
        """The stanza (dict) that covers `source_path` (a path in the upstream source tree, as
        the patterns are written), or None: the last stanza with a matching pattern."""
        hit = None
        for st, pats in self.files:
            if any(rx.match(source_path) for _, rx in pats):
                hit = st
        return hit


def short_licence(stanza):
    """The licence's short name (first line of the License field)."""
    if not stanza or "license" not in stanza:
        return ""
    return stanza["license"].split("\n", 1)[0].strip()


def first_line(stanza, key):
    """One-line form of a field (continuation lines joined by "; ")."""
    if not stanza or key not in stanza:
        return ""
    return "; ".join(s.strip() for s in stanza[key].split("\n") if s.strip())
