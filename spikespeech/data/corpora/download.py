"""Getting raw corpora onto disk: resumable, checked downloads and safe archive extraction.

Nothing here is specific to one corpus. The corpus modules describe what they need as
:class:`Resource` entries and call :func:`obtain`, which never touches the network when the
data is already on disk, and without ``download=True`` fails with one line saying which files
are missing, where to put them and where to fetch them from.
"""

from __future__ import annotations

import hashlib
import http.client
import os
import shutil
import tarfile
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from urllib.error import HTTPError, URLError
from urllib.request import Request, urlopen


class MissingDataError(RuntimeError):
    """Corpus data is not on disk and could not (or may not) be downloaded; exit status 2."""


class DownloadError(MissingDataError):
    """A download failed (offline, HTTP error, truncated, checksum mismatch)."""


@dataclass(frozen=True)
class Resource:
    """One downloadable archive of a corpus.

    ``archive`` is the file name in the data dir, ``url`` where to fetch it, ``md5`` its
    published checksum (``None`` when the publisher gives none) and ``extracted`` the path,
    relative to the extraction dir, that exists once the archive is unpacked.
    """

    archive: str
    url: str
    extracted: str
    md5: str | None = None


def md5sum(path: str | Path, chunk: int = 1 << 20) -> str:
    """Hex MD5 of a file, read in chunks."""
    digest = hashlib.md5()
    with open(path, "rb") as f:
        while block := f.read(chunk):
            digest.update(block)
    return digest.hexdigest()


def download(url: str, dest: str | Path, md5: str | None = None, *, timeout: float = 60.0) -> Path:
    """Fetch ``url`` to ``dest`` atomically, resuming a previous partial ``dest.part``.

    An existing ``dest`` is kept (its MD5 checked when ``md5`` is given). The body goes to
    ``dest.part`` (appended to with an HTTP ``Range`` request when that file exists and the
    server supports ranges) and is renamed to ``dest`` only once complete and checked. A
    truncated transfer keeps ``dest.part`` for the next call to resume; a checksum mismatch
    deletes it. Failures raise :class:`DownloadError` with a one-line message.
    """
    dest = Path(dest)
    if dest.exists():
        if md5 is not None and (got := md5sum(dest)) != md5:
            raise DownloadError(f"{dest}: MD5 {got} does not match the published {md5}; delete it and retry")
        return dest
    part = dest.with_name(dest.name + ".part")
    offset = part.stat().st_size if part.exists() else 0
    headers = {"User-Agent": "spikespeech-corpora/1"}
    if offset:
        headers["Range"] = f"bytes={offset}-"
    try:
        with urlopen(Request(url, headers=headers), timeout=timeout) as response:
            resumed = offset > 0 and response.getcode() == 206
            expected = response.headers.get("Content-Length")
            dest.parent.mkdir(parents=True, exist_ok=True)
            with open(part, "ab" if resumed else "wb") as f:
                start = f.tell()
                shutil.copyfileobj(response, f, 1 << 20)
                written = f.tell() - start
        if expected is not None and written < int(expected):
            raise DownloadError(f"{url}: transfer ended after {written} of {expected} bytes "
                                f"(kept {part}; rerun to resume)")
    except HTTPError as error:
        if not (error.code == 416 and offset):  # 416 with a partial file: it is already complete
            raise DownloadError(f"{url}: HTTP {error.code} {error.reason}") from None
    except (URLError, OSError, http.client.HTTPException) as error:
        reason = getattr(error, "reason", None) or error
        raise DownloadError(f"{url}: {reason}") from None
    if md5 is not None and (got := md5sum(part)) != md5:
        part.unlink()
        raise DownloadError(f"{url}: MD5 {got} of the download does not match the published {md5}")
    os.replace(part, dest)
    return dest


def _check_member(member: tarfile.TarInfo, root: Path, archive: Path) -> None:
    """Refuse members that would land outside ``root`` (absolute, ``..``, escaping links)."""

    def inside(path: Path) -> bool:
        return path == root or root in path.parents

    name = PurePosixPath(member.name)
    target = Path(os.path.normpath(root / name))
    if name.is_absolute() or not inside(target):
        raise ValueError(f"{archive}: member {member.name!r} would escape {root}; refusing to extract")
    if member.issym():
        link = Path(os.path.normpath(target.parent / member.linkname))
        if PurePosixPath(member.linkname).is_absolute() or not inside(link):
            raise ValueError(f"{archive}: symlink {member.name!r} -> {member.linkname!r} points outside "
                             f"{root}; refusing to extract")
    elif member.islnk():
        link = Path(os.path.normpath(root / member.linkname))
        if PurePosixPath(member.linkname).is_absolute() or not inside(link):
            raise ValueError(f"{archive}: hard link {member.name!r} -> {member.linkname!r} points outside "
                             f"{root}; refusing to extract")
    elif not (member.isfile() or member.isdir()):
        raise ValueError(f"{archive}: member {member.name!r} is a device or FIFO; refusing to extract")


def extract(archive: str | Path, dest: str | Path, *, skip_if_present: bool = False) -> Path:
    """Unpack a (compressed) tar ``archive`` into ``dest``, refusing members escaping ``dest``.

    Every member is checked before anything is written, so a malicious archive leaves nothing
    behind. With ``skip_if_present``, nothing is written when every file of the archive is
    already in ``dest`` with its size (an earlier extraction by hand). Returns ``dest``.
    """
    archive, dest = Path(archive), Path(dest)
    dest.mkdir(parents=True, exist_ok=True)
    root = dest.resolve()
    try:
        with tarfile.open(archive) as tar:
            members = tar.getmembers()
            for member in members:
                _check_member(member, root, archive)
            if skip_if_present and all(_present(m, root) for m in members):
                return dest
            if hasattr(tarfile, "data_filter"):
                tar.extractall(root, members=members, filter="data")
            else:  # Python < 3.11.4: the checks above are the safety net
                tar.extractall(root, members=members)  # noqa: S202
    except (tarfile.TarError, EOFError) as error:
        raise ValueError(f"{archive}: cannot extract ({type(error).__name__}: {error})") from None
    return dest


def _present(member: tarfile.TarInfo, root: Path) -> bool:
    """Whether a file member is already extracted under ``root`` (same size); other kinds count."""
    if not member.isfile():
        return True
    path = root / member.name
    return path.is_file() and path.stat().st_size == member.size


def extract_once(archive: str | Path, dest: str | Path) -> Path:
    """:func:`extract` unless done before: by a previous call (marker ``dest/.<archive>.extracted``)
    or by hand (every file already there; then nothing is written, so ``dest`` may be read-only).
    """
    archive, dest = Path(archive), Path(dest)
    marker = dest / f".{archive.name}.extracted"
    if not marker.exists():
        extract(archive, dest, skip_if_present=True)
        try:
            marker.touch()
        except OSError:  # a read-only dest whose contents were extracted already
            pass
    return dest


def obtain(
    corpus: str,
    resources: Iterable[Resource],
    data_dir: str | Path,
    work_dir: str | Path | None = None,
    download_missing: bool = False,
) -> list[Path]:
    """Make every resource's ``extracted`` path exist; return those paths, in order.

    For each resource, in order of preference: it is already extracted in ``data_dir`` or
    ``work_dir``; its archive is in ``data_dir`` (or ``work_dir``) and is extracted into
    ``work_dir``; or, with ``download_missing``, the archive is downloaded into ``data_dir``
    first. ``work_dir`` (default ``data_dir``) lets a read-only ``data_dir`` be used.
    Without ``download_missing``, all missing resources are named in one
    :class:`MissingDataError`; the network is never used for data that is on disk.
    """
    data_dir = Path(data_dir)
    work_dir = Path(work_dir) if work_dir is not None else data_dir
    resources = list(resources)
    found: dict[int, Path] = {}
    archives: dict[int, Path | None] = {}
    for i, res in enumerate(resources):
        done = next((d / res.extracted for d in (data_dir, work_dir) if (d / res.extracted).exists()), None)
        if done is not None:
            found[i] = done
        else:
            archives[i] = next((d / res.archive for d in (data_dir, work_dir) if (d / res.archive).is_file()),
                               None)
    missing = [resources[i] for i, archive in archives.items() if archive is None]
    if missing and not download_missing:
        raise MissingDataError(missing_message(corpus, missing, data_dir))
    for i, archive in archives.items():
        res = resources[i]
        if archive is None:
            try:
                archive = download(res.url, data_dir / res.archive, res.md5)
            except DownloadError as error:
                raise DownloadError(f"{corpus}: download failed ({error}); put {res.archive} from "
                                    f"{res.url} into {data_dir} by hand") from None
        extract_once(archive, work_dir)
        found[i] = work_dir / res.extracted
        if not found[i].exists():
            raise ValueError(f"{archive}: extracted, but {found[i]} is still missing "
                             f"(not the expected archive?)")
    return [found[i] for i in range(len(resources))]


def missing_message(corpus: str, missing: list[Resource], data_dir: Path) -> str:
    """One line naming the missing files, where to put them and where to fetch them from."""
    archives = ", ".join(r.archive for r in missing)
    extracted = ", ".join(r.extracted for r in missing)
    bases = {r.url.rsplit("/", 1)[0] for r in missing}
    source = (f"{bases.pop()}/" if len(bases) == 1 and len(missing) > 1
              else " ".join(r.url for r in missing))
    return (f"{corpus}: missing {archives} (or extracted {extracted}) in {data_dir}; "
            f"download from {source} into {data_dir}, or rerun with --download")
