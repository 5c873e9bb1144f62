#!/usr/bin/python3
# Reads an image's resource section of a file-system bank as karbor's
# Python service restores it and prints the MD5 of the bytes it would
# upload: FileSystemBankPlugin.get_object (the file read as text, then
# jsonutils.loads when that parses), restore_image_from_bank (data_* objects
# sorted by number, their count checked against chunks_num) and
# glanceclient's upload, which sends a str as its UTF-8 bytes.
import hashlib
import os
import sys

from oslo_serialization import jsonutils


def get_object(path):
    with open(path, mode='r', encoding='utf-8') as f:
        data = f.read()
    try:
        data = jsonutils.loads(data)
    except ValueError:
        pass
    return data


section = sys.argv[1]
metadata = get_object(os.path.join(section, "metadata"))
names = [n for n in os.listdir(section) if n.startswith("data_")]
if len(names) != int(metadata.get("chunks_num", 0)):
    sys.exit("The chunks num of restored image is invalid")
digest = hashlib.md5()
for name in sorted(names, key=lambda s: int(s[5:])):
    chunk = get_object(os.path.join(section, name))
    if not isinstance(chunk, str):
        sys.exit("%s decodes to %r, not image data" % (name, type(chunk)))
    digest.update(chunk.encode("utf-8"))
print(digest.hexdigest())
