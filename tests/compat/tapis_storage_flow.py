"""The tapipy 25.4.0 flow of Tapis volumes, snapshots and the image allow-list
(run it through tests/compat/tapis.sh, before tapis_flow.py).

The server runs with the image allow-list on: an administrator adds the
images every later pod uses (so tapis_flow.py runs after this). Prints
`ok - ...` / `not ok - ...` lines with tapis_flow.py's helpers; exits 0 when
it ran to the end, whatever the assertions said.

Environment: as tapis_flow.py, plus TAPIS_ADMIN / TAPIS_ADMIN_PASS (an
administrator the server made at start).
"""
import os
import subprocess
import sys
import time

from tapipy.tapis import Tapis

import tapis_flow as f

ADMIN, PADMIN = os.environ["TAPIS_ADMIN"], os.environ["TAPIS_ADMIN_PASS"]
VOL = "compatvol"
SNAP = "compatsnap"
WRITER = "compatwriter"
READER = "compatreader"
CMD_WRITE = ["sh", "-c", "echo from-writer > /data/note.txt; exec sleep 3600"]


def client(user, password):
    t = Tapis(base_url=f.URL, tenant_id="dev", username=user, password=password)
    t.get_tokens()
    return t


def refused(cid, *argv):
    """Whether a command in the container fails (no container: it did not run, so no)."""
    if not cid:
        return False
    return subprocess.run(["docker", "exec", cid, *argv], capture_output=True, timeout=60).returncode != 0


def running_container(pod, timeout=f.WAIT):
    end = time.time() + timeout
    while time.time() < end:
        ids = f.containers(pod)
        if ids:
            return ids[0]
        time.sleep(1)
    return None


def images(ta, t, tb):
    c = f.call_ok("get_images with the allow-list on and empty", t.pods.get_images)
    f.check("get_images: an empty list", c.err is None and c.data == [], c.detail())
    f.call_fails("create_pod with an image not on the allow-list is refused", (400,),
                 t.pods.create_pod, pod_id="compatnolist", image=f.IMAGE, command=["sleep", "60"])
    f.call_fails(f"{f.A} (no administrator) cannot add an image", (403,),
                 t.pods.add_image, image=f.IMAGE)
    c = f.call_ok("add_image busybox:latest as an administrator", ta.pods.add_image,
                  image=f.IMAGE, description="the compat image")
    f.check("add_image: the entry (image, description, added_by, creation_ts)",
            c.get("image") == f.IMAGE and c.get("description") == "the compat image"
            and c.get("added_by") == ADMIN and c.get("creation_ts"), c.detail())
    f.call_fails("add_image of a listed image is a conflict", (409,), ta.pods.add_image, image=f.IMAGE)
    c = f.call_ok("add_images (bulk) with skip_duplicates", ta.pods.add_images, skip_duplicates=True,
                  request_body=[{"image": f.IMAGE}, {"image": "alpine:*", "tenants": ["dev"]}])
    f.check("add_images: only the new entry comes back",
            c.err is None and [i.get("image") for i in c.data] == ["alpine:*"], c.detail())
    c = f.call_ok("get_image alpine:*", t.pods.get_image, image_id="alpine:*")
    f.check("get_image: the entry with its tenants", c.get("tenants") == ["dev"], c.detail())
    c = f.call(t.pods.get_images)
    f.check("get_images lists both entries",
            c.err is None and sorted(i.get("image") for i in c.data) == ["alpine:*", f.IMAGE], c.detail())
    f.call_fails(f"{f.B} cannot delete an entry", (403,), tb.pods.delete_image, image_id="alpine:*")
    f.call_ok("delete_image alpine:*", ta.pods.delete_image, image_id="alpine:*")
    f.call_fails("get_image after delete_image", (404,), t.pods.get_image, image_id="alpine:*")


def volumes(t, tb):
    c = f.call_ok("create_volume", t.pods.create_volume, volume_id=VOL, description="compat volume",
                  size_limit=1)
    f.check("create_volume: volume_id, size_limit, status AVAILABLE",
            c.get("volume_id") == VOL and c.get("size_limit") == 1 and c.get("status") == "AVAILABLE",
            c.detail())
    f.call_fails("create_volume with a taken id is a conflict", (409,), t.pods.create_volume, volume_id=VOL)
    c = f.call(t.pods.list_volumes)
    f.check("list_volumes lists it", c.err is None and VOL in f.text_of(c.data), c.detail())
    c = f.call_ok("upload_to_volume (multipart file)", t.pods.upload_to_volume, volume_id=VOL,
                  path="input/data.txt", file=("data.txt", b"uploaded-by-tapipy\n"))
    c = f.call_ok("list_volume_files", t.pods.list_volume_files, volume_id=VOL)
    f.check("list_volume_files: input and input/data.txt with their sizes",
            c.err is None and {"input", "input/data.txt"} <= {x.get("path") for x in c.data}
            and any(x.get("path") == "input/data.txt" and x.get("size") == 19 for x in c.data), c.detail())
    c = f.call(t.pods.get_volume_contents, volume_id=VOL, path="input/data.txt")
    f.check("get_volume_contents: the file's bytes", c.raw == b"uploaded-by-tapipy\n", c.detail())
    f.call_fails("an upload past size_limit is refused", (400,), t.pods.upload_to_volume, volume_id=VOL,
                 path="big.bin", file=("big.bin", b"x" * (3 << 19)))
    c = f.call_ok("update_volume (description)", t.pods.update_volume, volume_id=VOL, description="changed")
    f.check("update_volume: the new description", c.get("description") == "changed", c.detail())

    f.call_fails(f"{f.B} does not see the volume", (404,), tb.pods.get_volume, volume_id=VOL)
    f.call_fails(f"{f.B} cannot mount the volume", (400, 403), tb.pods.create_pod, pod_id="compatbvol",
                 image=f.IMAGE, command=["sleep", "60"],
                 volume_mounts={VOL: {"type": "tapisvolume", "mount_path": "/data"}})
    c = f.call_ok(f"set_volume_permission {f.B} READ", t.pods.set_volume_permission, volume_id=VOL,
                  user=f.B, level="READ")
    f.check("the permissions list both", f"{f.B}:READ" in (c.get("permissions") or []), c.detail())
    c = f.call_ok("get_volume_permissions", t.pods.get_volume_permissions, volume_id=VOL)
    f.check(f"{f.A} is ADMIN", f"{f.A}:ADMIN" in (c.get("permissions") or []), c.detail())
    f.call_fails(f"{f.B} (READ) cannot upload", (403,), tb.pods.upload_to_volume, volume_id=VOL,
                 path="x.txt", file=("x.txt", b"x"))
    f.call_ok(f"{f.B} (READ) reads the volume's files", tb.pods.list_volume_files, volume_id=VOL)

    # Two pods share the volume: one writes, the other (read-only) reads.
    f.call_ok("create a pod writing into the volume", t.pods.create_pod, pod_id=WRITER, image=f.IMAGE,
              command=CMD_WRITE, volume_mounts={VOL: {"type": "tapisvolume", "mount_path": "/data"}})
    f.call_ok(f"{f.B} creates a pod mounting the volume read-only", tb.pods.create_pod, pod_id=READER,
              image=f.IMAGE, command=["sleep", "3600"],
              volume_mounts={VOL: {"type": "tapisvolume", "mount_path": "/shared", "read_only": True}})
    reader = running_container(READER)
    seen = ""
    end = time.time() + 30
    while reader and time.time() < end and seen != "from-writer":
        seen = f.docker("exec", reader, "cat", "/shared/note.txt")
        time.sleep(1)
    f.check("the reading pod sees what the writing pod wrote", seen == "from-writer",
            f"cat -> {seen!r}\n" + f.docker_state(READER))
    f.check("the read-only mount refuses writes",
            refused(reader, "touch", "/shared/x"), f.docker_state(READER))


def snapshots(t, tb):
    c = f.call_ok("create_snapshot of the whole volume", t.pods.create_snapshot, snapshot_id=SNAP,
                  source_volume_id=VOL, source_volume_path="/", description="compat snapshot")
    f.check("create_snapshot: ids and AVAILABLE",
            c.get("snapshot_id") == SNAP and c.get("source_volume_id") == VOL
            and c.get("status") == "AVAILABLE", c.detail())
    f.call_fails("create_snapshot of a missing path is refused", (400,), t.pods.create_snapshot,
                 snapshot_id="compatbadsnap", source_volume_id=VOL, source_volume_path="nope")
    c = f.call(t.pods.list_snapshots)
    f.check("list_snapshots lists it", c.err is None and SNAP in f.text_of(c.data), c.detail())
    c = f.call_ok("list_snapshot_files", t.pods.list_snapshot_files, snapshot_id=SNAP)
    f.check("the snapshot holds note.txt and input/data.txt",
            c.err is None and {"note.txt", "input/data.txt"} <= {x.get("path") for x in c.data}, c.detail())
    writer = running_container(WRITER)
    if writer:
        f.docker("exec", writer, "sh", "-c", "echo changed > /data/note.txt")
    c = f.call(t.pods.get_snapshot_contents, snapshot_id=SNAP, path="note.txt")
    f.check("the snapshot keeps what the volume held when it was taken", c.raw == b"from-writer\n", c.detail())
    c = f.call_ok("update_snapshot (description)", t.pods.update_snapshot, snapshot_id=SNAP,
                  description="kept")
    f.check("update_snapshot: the new description", c.get("description") == "kept", c.detail())
    f.call_ok(f"set_snapshot_permission {f.B} READ", t.pods.set_snapshot_permission, snapshot_id=SNAP,
              user=f.B, level="READ")
    c = f.call_ok("get_snapshot_permissions", t.pods.get_snapshot_permissions, snapshot_id=SNAP)
    f.check("the snapshot's permissions list both", f"{f.B}:READ" in (c.get("permissions") or []), c.detail())

    pod = "compatsnappod"
    f.call_ok(f"{f.B} mounts the snapshot with a config file", tb.pods.create_pod, pod_id=pod, image=f.IMAGE,
              command=["sleep", "3600"],
              volume_mounts={SNAP: {"type": "tapissnapshot", "mount_path": "/snap"},
                             "conf": {"type": "ephemeral", "mount_path": "/etc/compat/app.conf",
                                      "config_content": "answer=42\n", "config_permissions": "0640"}})
    cid = running_container(pod)
    f.check("the snapshot is mounted with what it held",
            cid and f.docker("exec", cid, "cat", "/snap/note.txt") == "from-writer", f.docker_state(pod))
    f.check("the snapshot mount refuses writes",
            refused(cid, "touch", "/snap/x"), f.docker_state(pod))
    f.check("the config file is at its mount path",
            cid and f.docker("exec", cid, "cat", "/etc/compat/app.conf") == "answer=42", f.docker_state(pod))
    f.check("the config file has its mode (640)",
            cid and f.docker("exec", cid, "stat", "-c", "%a", "/etc/compat/app.conf") == "640",
            f.docker_state(pod))
    f.call_ok("delete the snapshot's pod", tb.pods.delete_pod, pod_id=pod)
    f.check(f"docker has no container of {pod} after delete", f.wait_gone(pod), f.docker_state(pod))


def cleanup(t, tb):
    f.call_ok("delete the writing pod", t.pods.delete_pod, pod_id=WRITER)
    f.call_ok("delete the reading pod", tb.pods.delete_pod, pod_id=READER)
    for p in (WRITER, READER):
        f.check(f"docker has no container of {p} after delete", f.wait_gone(p), f.docker_state(p))
    c = f.call(t.pods.get_volume_contents, volume_id=VOL, path="note.txt")
    f.check("the volume's data outlives its pods", c.raw == b"changed\n", c.detail())
    f.call_fails(f"{f.B} cannot delete the volume", (403,), tb.pods.delete_volume, volume_id=VOL)
    f.call_ok("delete_volume", t.pods.delete_volume, volume_id=VOL)
    f.call_fails("get_volume after delete", (404,), t.pods.get_volume, volume_id=VOL)
    c = f.call(t.pods.get_snapshot_contents, snapshot_id=SNAP, path="note.txt")
    f.check("the snapshot outlives its volume", c.raw == b"from-writer\n", c.detail())
    f.call_ok("delete_snapshot", t.pods.delete_snapshot, snapshot_id=SNAP)
    f.call_fails("get_snapshot after delete", (404,), t.pods.get_snapshot, snapshot_id=SNAP)


def main():
    ta, t, tb = client(ADMIN, PADMIN), client(f.A, f.PA), client(f.B, f.PB)
    images(ta, t, tb)
    volumes(t, tb)
    snapshots(t, tb)
    cleanup(t, tb)


if __name__ == "__main__":
    try:
        main()
    except Exception:  # noqa: BLE001
        import traceback

        f.not_ok("the storage flow crashed", traceback.format_exc())
        sys.exit(2)
    f.say(f"# tapis_storage_flow.py: {f.passed} passed, {f.failed} failed")
