#!/usr/bin/python3
# Writes python-section/: an image's resource section as karbor's Python
# image plugin leaves it in the file-system bank (backup_image_to_bank with
# backup_image_object_size 65536): each chunk through oslo's
# jsonutils.dumps, a trailing empty chunk because the image's size is a
# multiple of the object size, metadata and status as update_object writes
# them. Python can only chunk UTF-8 text, so the image is text.
import hashlib
import os

from oslo_serialization import jsonutils

SIZE = 65536
out = os.path.join(os.path.dirname(os.path.abspath(__file__)), "python-section")
os.makedirs(out, exist_ok=True)


def chunk(i):
    b = bytearray()
    n = 0
    while True:
        line = ("line %d of chunk %d: caf\u00e9 \u2603 \U0001F600 \"quoted\" \\ tab\t\n" % (n, i)).encode()
        if len(b) + len(line) > SIZE:
            break
        b += line
        n += 1
    b += b"x" * (SIZE - len(b))
    return bytes(b)


image = chunk(1) + chunk(2)
objects = {"data_1": image[:SIZE], "data_2": image[SIZE:], "data_3": b""}
for name, data in objects.items():
    with open(os.path.join(out, name), "w") as f:
        f.write(jsonutils.dumps(data))
metadata = {"resource_id": "5f0c6a4e-2f4c-4a57-9a53-4d7d3f3c1e11",
            "image_metadata": {"disk_format": "raw", "container_format": "bare",
                               "checksum": hashlib.md5(image).hexdigest()},
            "chunks_num": 3}
with open(os.path.join(out, "metadata"), "w") as f:
    f.write(jsonutils.dumps(metadata))
with open(os.path.join(out, "status"), "w") as f:
    f.write("available")
with open(out + ".bin", "wb") as f:
    f.write(image)
