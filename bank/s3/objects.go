package s3

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/gokarbor/karbor-protection/bank"
)

// serializedMeta is the user metadata the Python plugin writes on every
// bank object: boto3's Metadata={'x-object-meta-serialized': 'True'|'False'},
// i.e. the header x-amz-meta-x-object-meta-serialized. (It is not swift's
// X-Object-Meta-Serialized: behind Swift's s3api it is stored as
// X-Object-Meta-X-Object-Meta-Serialized, so objects of the swift bank and
// of the S3 bank are not interchangeable, in Python as here.)
const serializedMeta = "x-object-meta-serialized"

// checkKey refuses anything but a normalised bank key before it reaches the
// server (Bank validated it; this is the plugin's own guard): absolute, key
// characters only, no empty, "." or ".." parts, no trailing slash (a
// prefix's last part may be empty or partial).
func checkKey(key string, isPrefix bool) error {
	if !strings.HasPrefix(key, "/") || !bank.ValidKeyChars(key) || !isPrefix && (len(key) < 2 || strings.HasSuffix(key, "/")) {
		return &bank.InvalidKeyError{Key: key, Reason: fmt.Sprintf(`Only alphanumeric, underscore, dash, dots, at signs, and slashes are allowed. Key: "%s"`, key)}
	}
	parts := strings.Split(key[1:], "/")
	if isPrefix {
		parts = parts[:len(parts)-1]
	}
	for _, part := range parts {
		switch part {
		case "..":
			return &bank.InvalidPathError{Path: key}
		case "", ".":
			return &bank.InvalidKeyError{Key: key, Reason: `Invalid parameter: must not contain "." or ".." parts`}
		}
	}
	return nil
}

// pythonBool is Python's str() of a bool.
func pythonBool(b bool) string {
	if b {
		return "True"
	}
	return "False"
}

// PutObject writes the object under its key, with the serialized flag in
// the metadata as Python writes it. The body goes to the wire from the
// caller's slice, without a copy.
func (p *Plugin) PutObject(ctx context.Context, key string, obj bank.Object) error {
	if err := checkKey(key, false); err != nil {
		return err
	}
	_, err := p.client.PutObject(ctx, &s3.PutObjectInput{
		Bucket:        aws.String(p.opts.ObjectBucket),
		Key:           aws.String(key),
		Body:          bytes.NewReader(obj.Data),
		ContentLength: aws.Int64(int64(len(obj.Data))),
		Metadata:      map[string]string{serializedMeta: pythonBool(obj.Serialized)},
	})
	return p.newError("PutObject", err)
}

// GetObject reads an object. The body is read into one buffer of the
// announced length. An object without the serialized flag (not written by
// a karbor bank) reads as raw.
func (p *Plugin) GetObject(ctx context.Context, key string) (bank.Object, error) {
	if err := checkKey(key, false); err != nil {
		return bank.Object{}, err
	}
	out, err := confirmMissing(p, "GetObject", func() (*s3.GetObjectOutput, error) {
		return p.client.GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String(p.opts.ObjectBucket), Key: aws.String(key)})
	})
	if err != nil {
		return bank.Object{}, p.newError("GetObject", err)
	}
	defer out.Body.Close()
	data, err := readBody(out.Body, aws.ToInt64(out.ContentLength))
	if err != nil {
		return bank.Object{}, p.newError("GetObject", fmt.Errorf("reading the body: %w", err))
	}
	return bank.Object{Data: data, Serialized: strings.EqualFold(metadata(out.Metadata, serializedMeta), "true")}, nil
}

// confirmMissing calls read, and once more at once when it answers that
// the object is missing. A Swift object server behind s3api answers 404
// for an object that exists when the read lists the object's files just
// before a concurrent write (a lease renewal, an overwrite) replaces them;
// with one replica nothing else answers for it, so a missing object is
// believed only when a second look agrees.
func confirmMissing[T any](p *Plugin, operation string, read func() (T, error)) (T, error) {
	out, err := read()
	if err != nil && errors.Is(p.newError(operation, err), bank.ErrNotFound) {
		return read()
	}
	return out, err
}

// readBody reads exactly n bytes (n < 0: unknown, read to the end).
func readBody(r io.Reader, n int64) ([]byte, error) {
	if n < 0 {
		return io.ReadAll(r)
	}
	buf := make([]byte, n)
	if _, err := io.ReadFull(r, buf); err != nil {
		return nil, err
	}
	var extra [1]byte
	if m, _ := r.Read(extra[:]); m > 0 {
		return nil, errors.New("body longer than its Content-Length")
	}
	return buf, nil
}

// metadata looks a user-metadata key up case-insensitively (servers and
// clients differ in the case they give header names).
func metadata(m map[string]string, key string) string {
	if v, ok := m[key]; ok {
		return v
	}
	for k, v := range m {
		if strings.EqualFold(k, key) {
			return v
		}
	}
	return ""
}

// DeleteObject removes an object. S3 answers 204 whether or not it existed,
// so a HEAD first tells a missing object (bank.ErrNotFound, as every bank
// reports it) from a deleted one.
func (p *Plugin) DeleteObject(ctx context.Context, key string) error {
	if err := checkKey(key, false); err != nil {
		return err
	}
	if _, err := confirmMissing(p, "HeadObject", func() (*s3.HeadObjectOutput, error) {
		return p.client.HeadObject(ctx, &s3.HeadObjectInput{Bucket: aws.String(p.opts.ObjectBucket), Key: aws.String(key)})
	}); err != nil {
		return p.newError("HeadObject", err)
	}
	_, err := p.client.DeleteObject(ctx, &s3.DeleteObjectInput{Bucket: aws.String(p.opts.ObjectBucket), Key: aws.String(key)})
	return p.newError("DeleteObject", err)
}

// createBucket creates a bucket. One that already exists and is ours
// (BucketAlreadyOwnedByYou, which Swift's s3api answers where AWS and RGW
// answer 200) is what a second start finds, not a failure.
func (p *Plugin) createBucket(ctx context.Context, bucket string) error {
	_, err := p.client.CreateBucket(ctx, &s3.CreateBucketInput{Bucket: aws.String(bucket)})
	if err == nil {
		return nil
	}
	e := p.newError("CreateBucket", err)
	var se *Error
	if errors.As(e, &se) && se.Code == "BucketAlreadyOwnedByYou" {
		return nil
	}
	return fmt.Errorf("s3 bank: create bucket %s at %s: %w", bucket, p.endpoint(), e)
}
