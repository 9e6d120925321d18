"""Running models through pix2pix-cli, the program users get (never a re-implementation).

The binary is --cli when given, else $P2P_CLI, else the first of _build/cli/pix2pix-cli,
_build/core/pix2pix-cli (in the repository) that exists, else pix2pix-cli on $PATH.
"""
import json
import os
import shutil
import struct
import subprocess

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
CANDIDATES = ("_build/cli/pix2pix-cli", "_build/core/pix2pix-cli")


def find_cli(explicit=None):
    if explicit:
        return explicit
    if os.environ.get("P2P_CLI"):
        return os.environ["P2P_CLI"]
    for c in CANDIDATES:
        p = os.path.join(REPO, c)
        if os.access(p, os.X_OK):
            return p
    p = shutil.which("pix2pix-cli")
    if p:
        return p
    raise SystemExit("pix2pix-cli not found: build it (meson setup _build -Dplugin=false && "
                     "meson compile -C _build), or pass --cli / set P2P_CLI")


def model_metadata(path):
    """The __metadata__ of a safetensors model file (models/FORMAT.md), header only."""
    with open(path, "rb") as f:
        n = struct.unpack("<Q", f.read(8))[0]
        if n > 100 * 1024 * 1024:
            raise ValueError("%s: not a safetensors file" % path)
        return json.loads(f.read(n)).get("__metadata__", {})


def takes_hints(md):
    return md.get("input_space") == "lab_l_hints"


def model_label(path, taken):
    """A label for a model in tables and file names: its file name without the extension, made
    unique among `taken` with a -2, -3 ... suffix (two runs' snapshots may share a name)."""
    base = os.path.splitext(os.path.basename(path))[0]
    label, i = base, 2
    while label in taken:
        label, i = "%s-%d" % (base, i), i + 1
    return label


def training_step(md):
    for tok in md.get("training", "").split():
        if tok.startswith("step="):
            return int(tok[5:])
    return None


class CliError(RuntimeError):
    pass


def run(cli, model, inp, out, hints=None, threads=None, extra=()):
    """pix2pix-cli run with default options (what users get); hints only when given."""
    cmd = [cli, "run", "--model", model]
    if hints is not None:
        cmd += ["--hints", hints]
    if threads:
        cmd += ["--threads", str(threads)]
    cmd += list(extra) + [inp, out]
    if os.path.exists(out):
        os.remove(out)
    r = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    if r.returncode != 0 or not os.path.exists(out):
        raise CliError("%s: exit %d: %s" % (" ".join(cmd), r.returncode, r.stderr.strip()))
