"""A PEP 517 build backend for the vconv package alone, standard library only: the wheel holds
vconv/*.py and its metadata; the version is vconv.__version__. (pyproject.toml says why.)"""

import base64
import hashlib
import os
import re
import tarfile
import zipfile

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
NAME = "vconv"


def _version():
    with open(os.path.join(ROOT, NAME, "__init__.py"), encoding="utf-8") as f:
        return re.search(r'^__version__ = "([^"]+)"', f.read(), re.M).group(1)


def _metadata():
    return (f"Metadata-Version: 2.1\nName: {NAME}\nVersion: {_version()}\n"
            "Summary: Voice conversion (VQ-VAE), a ctypes binding of the vconv C library\n"
            "License: MIT\nRequires-Python: >=3.8\nRequires-Dist: numpy\n")


def _sources():
    folder = os.path.join(ROOT, NAME)
    return sorted(f"{NAME}/{f}" for f in os.listdir(folder) if f.endswith(".py"))


def build_wheel(wheel_directory, config_settings=None, metadata_directory=None):
    info = f"{NAME}-{_version()}.dist-info"
    wheel_name = f"{NAME}-{_version()}-py3-none-any.whl"
    files = [(path, open(os.path.join(ROOT, path), "rb").read()) for path in _sources()]
    files += [(f"{info}/METADATA", _metadata().encode()),
              (f"{info}/WHEEL", b"Wheel-Version: 1.0\nGenerator: vconv_backend\n"
                                b"Root-Is-Purelib: true\nTag: py3-none-any\n")]
    record = []
    with zipfile.ZipFile(os.path.join(wheel_directory, wheel_name), "w",
                         zipfile.ZIP_DEFLATED) as whl:
        for path, data in files:
            digest = base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b"=")
            record.append(f"{path},sha256={digest.decode()},{len(data)}")
            whl.writestr(path, data)
        record.append(f"{info}/RECORD,,")
        whl.writestr(f"{info}/RECORD", "\n".join(record) + "\n")
    return wheel_name


def build_sdist(sdist_directory, config_settings=None):
    base = f"{NAME}-{_version()}"
    with tarfile.open(os.path.join(sdist_directory, base + ".tar.gz"), "w:gz") as tar:
        for path in _sources() + ["pyproject.toml", "backend/vconv_backend.py"]:
            tar.add(os.path.join(ROOT, path), f"{base}/{path}")
        pkg_info = os.path.join(sdist_directory, "PKG-INFO")
        with open(pkg_info, "w", encoding="utf-8") as f:
            f.write(_metadata())
        tar.add(pkg_info, f"{base}/PKG-INFO")
        os.remove(pkg_info)
    return base + ".tar.gz"
