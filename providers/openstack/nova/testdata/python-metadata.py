#!/usr/bin/python3
# Writes python-metadata-image.json and python-metadata-volume.json: the
# "metadata" object karbor's Python server plugin writes for the two
# captured servers (nova-server.json, booted from an image with a volume
# attached; nova-server-bfv.json, booted from a volume), from the same
# captured Cinder and Neutron bodies the unit tests' fake serves. The steps
# are ProtectOperation.on_main's, on the dicts novaclient, cinderclient and
# neutronclient make of those bodies (json.loads), written as the bank's
# update_object writes a dict (oslo's jsonutils.dumps).
import json
import os

from oslo_serialization import jsonutils

here = os.path.dirname(os.path.abspath(__file__))


def load(name):
    with open(os.path.join(here, name + '.json')) as f:
        return json.load(f)


volumes = {}
for name in ('cinder-volume-in-use', 'cinder-volume-boot'):
    v = load(name)['volume']
    volumes[v['id']] = v
ports = load('neutron-ports-mac')['ports']


def list_ports(mac_address):
    return {'ports': [p for p in ports if p['mac_address'] == mac_address]}


def on_main(server, children):
    server_id = server['id']
    resource_definition = {"resource_id": server_id}
    attach_metadata = {}
    for child in children:
        volume = volumes[child]
        for attachment in volume['attachments']:
            if attachment["server_id"] == server_id:
                attachment["bootable"] = volume['bootable']
                attach_metadata[child] = attachment
    resource_definition["attach_metadata"] = attach_metadata
    availability_zone = server["OS-EXT-AZ:availability_zone"]
    networks = []
    floating_ips = []
    for network_infos in server['addresses'].values():
        for network_info in network_infos:
            addr = network_info.get("addr")
            mac = network_info.get("OS-EXT-IPS-MAC:mac_addr")
            network_type = network_info.get("OS-EXT-IPS:type")
            if network_type == 'fixed':
                port = list_ports(mac_address=mac)["ports"][0]
                if port["network_id"] not in networks:
                    networks.append(port["network_id"])
            elif network_type == "floating":
                floating_ips.append(addr)
    flavor = server["flavor"]["id"]
    key_name = server.get("key_name", None)
    security_groups = server.get("security_groups", None)
    boot_metadata = {}
    image_info = server.get("image", None)
    if image_info is not None and isinstance(image_info, dict):
        boot_metadata["boot_device_type"] = "image"
        boot_metadata["boot_image_id"] = image_info['id']
    else:
        boot_metadata["boot_device_type"] = "volume"
        for volume_attached in server.get("os-extended-volumes:volumes_attached", []):
            volume_id = volume_attached["id"]
            volume_attach_metadata = attach_metadata.get(volume_id, None)
            if volume_attach_metadata is not None and (
                    volume_attach_metadata["bootable"] == "true"):
                boot_metadata["boot_volume_id"] = volume_id
                boot_metadata["boot_attach_metadata"] = volume_attach_metadata
    resource_definition["boot_metadata"] = boot_metadata
    resource_definition["server_metadata"] = {
        "availability_zone": availability_zone,
        "networks": networks,
        "floating_ips": floating_ips,
        "flavor": flavor,
        "key_name": key_name,
        "security_groups": security_groups,
    }
    return resource_definition


for body, out in (('nova-server', 'python-metadata-image'), ('nova-server-bfv', 'python-metadata-volume')):
    server = load(body)['server']
    children = [v['id'] for v in server['os-extended-volumes:volumes_attached']]
    with open(os.path.join(here, out + '.json'), 'w') as f:
        f.write(jsonutils.dumps(on_main(server, children)))
