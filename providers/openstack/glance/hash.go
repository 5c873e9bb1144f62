package glance

import (
	"crypto/md5"  //nolint:gosec // Glance's image checksum is an MD5
	"crypto/sha1" //nolint:gosec // an os_hash_algo Glance may be configured with
	"crypto/sha256"
	"crypto/sha512"
	"encoding/hex"
	"fmt"
	"hash"
	"strings"

	"github.com/gophercloud/gophercloud/v2/openstack/image/v2/images"
)

// hashes are the os_hash_algo values (hashlib names, Glance's
// [DEFAULT] hashing_algorithm) whose hash Go has.
var hashes = map[string]func() hash.Hash{
	"md5":    md5.New,
	"sha1":   sha1.New,
	"sha224": sha256.New224,
	"sha256": sha256.New,
	"sha384": sha512.New384,
	"sha512": sha512.New,
}

// digest is what a download is checked against: a hash of the bytes and
// the value Glance recorded for them.
type digest struct {
	name string // os_hash_algo, or "md5" for the checksum
	want string
	sum  hash.Hash
}

// imageDigest chooses the check of an image's download, as glanceclient's
// images.data(do_checksum=True) does: the multihash (os_hash_value, with
// os_hash_algo: sha512 unless Glance is configured otherwise) when Glance
// has one, else the MD5 checksum; an image with neither (one Glance
// recorded before it computed either) is not checked (nil). A multihash
// of an algorithm Go lacks falls back to the checksum, where glanceclient
// (allow_md5_fallback=False) refuses the download; with no checksum either
// it is an error.
func imageDigest(img *images.Image) (*digest, error) {
	value, _ := img.Properties["os_hash_value"].(string)
	algo, _ := img.Properties["os_hash_algo"].(string)
	if value != "" {
		if h, ok := hashes[strings.ToLower(algo)]; ok {
			return &digest{name: algo, want: strings.ToLower(value), sum: h()}, nil
		}
		if img.Checksum == "" {
			return nil, fmt.Errorf("image %s: its data cannot be checked: hash %q is not supported and it has no checksum", img.ID, algo)
		}
	}
	if img.Checksum == "" {
		return nil, nil
	}
	return &digest{name: "md5", want: strings.ToLower(img.Checksum), sum: md5.New()}, nil //nolint:gosec // Glance's checksum
}

// hash is what the download feeds (nil when nothing is checked).
func (d *digest) hash() hash.Hash {
	if d == nil {
		return nil
	}
	return d.sum
}

// check compares what was hashed with Glance's value.
func (d *digest) check(imageID string) error {
	if d == nil {
		return nil
	}
	if got := hex.EncodeToString(d.sum.Sum(nil)); got != d.want {
		return fmt.Errorf("image %s: the downloaded data's checksum (%s) %s is not the image's %s", imageID, d.name, got, d.want)
	}
	return nil
}
