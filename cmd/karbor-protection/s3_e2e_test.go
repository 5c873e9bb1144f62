package main_test

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"net"
	"net/url"
	"os"
	"syscall"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/gokarbor/karbor-protection/bank"
	"github.com/gokarbor/karbor-protection/rpc/rpctest"
)

// TestS3BankEndToEnd runs the service with the noop provider's bank in
// Swift's s3api (tempauth credentials, buckets of its own): protect, list
// in both directions with paging, delete, and on SIGTERM the lease is
// released in the lease bucket.
func TestS3BankEndToEnd(t *testing.T) {
	endpoint := os.Getenv("KARBOR_TEST_S3_TEMPAUTH_ENDPOINT")
	access, secret := os.Getenv("KARBOR_TEST_S3_TEMPAUTH_ACCESS_KEY"), os.Getenv("KARBOR_TEST_S3_TEMPAUTH_SECRET_KEY")
	if endpoint == "" || access == "" || secret == "" {
		rpctest.Unavailable(t, "KARBOR_TEST_S3_TEMPAUTH_* are not set (source scripts/ensure-swift.sh)")
	}
	u, err := url.Parse(endpoint)
	require.NoError(t, err)
	conn, err := net.DialTimeout("tcp", u.Host, 2*time.Second)
	if err != nil {
		rpctest.Unavailable(t, "S3 endpoint %s does not answer: %v", endpoint, err)
	}
	_ = conn.Close()
	var r [4]byte
	_, _ = rand.Read(r[:])
	bucket := "kgo-e2e-" + hex.EncodeToString(r[:])
	conf := bank.ConfigMap{
		"s3_client":      {"s3_endpoint": endpoint, "s3_access_key": access, "s3_secret_key": secret},
		"s3_bank_plugin": {"bank_s3_object_bucket": bucket, "bank_s3_lease_bucket": bucket + "-lease"},
	}
	provider := fmt.Sprintf(`[provider]
name = No-Op Provider
description = noop with an S3 bank
id = %s
plugin=karbor-noop-protection-plugin
bank=karbor-s3-bank-plugin
enabled=True

[s3_client]
s3_endpoint = %s
s3_access_key = %s
s3_secret_key = %s

[s3_bank_plugin]
bank_s3_object_bucket = %s
bank_s3_lease_bucket = %s-lease
`, noopID, endpoint, access, secret, bucket, bucket)

	url := rpctest.Vhost(t)
	svc := newService(t, url, serviceConfig{provider: provider})
	c := pyClient(t, url)
	member := requestContext(t, projectA, false)
	planID := "632d8f7d-e2c3-4f31-82ea-900d8afb9880"
	var ids []string
	for range 3 {
		id := protect(t, c, member, planID, projectA, 2)
		waitStatus(t, c, member, id, "available")
		ids = append(ids, id)
	}

	// Look into the buckets with a plugin instance of our own (which also
	// empties them when the test ends).
	ctx := context.Background()
	look, err := bank.Open(ctx, "karbor-s3-bank-plugin", conf, bank.Holder{})
	require.NoError(t, err)
	t.Cleanup(func() {
		_ = look.Close()
		removeBuckets(endpoint, access, secret, bucket, bucket+"-lease")
	})
	for _, id := range ids {
		obj, err := look.GetObject(ctx, bank.IndexKey(id))
		require.NoError(t, err)
		assert.True(t, obj.Serialized, "index.json is flagged serialized")
		assert.Contains(t, string(obj.Data), `"status": "available"`)
	}

	desc := listIDs(t, c, member, nil)
	require.ElementsMatch(t, ids, desc)
	assert.Equal(t, desc, reversed(listIDs(t, c, member, map[string]any{"sort_dirs": []string{"asc"}})))
	var paged []string
	marker := any(nil)
	for range 4 {
		page := listIDs(t, c, member, map[string]any{"limit": 1, "marker": marker})
		if len(page) == 0 {
			break
		}
		paged = append(paged, page...)
		marker = page[0]
	}
	assert.Equal(t, desc, paged, "paging newest first, one at a time")

	result(t, call(t, c, "delete", member, map[string]any{"provider_id": noopID, "checkpoint_id": ids[0]}))
	waitFor(t, 60*time.Second, "deleted checkpoint gone from the listing", func() bool {
		return len(listIDs(t, c, member, nil)) == 2
	})

	// SIGTERM releases the lease: its object is left expired.
	leases, err := look.Leases(ctx)
	require.NoError(t, err)
	var svcLease bank.Lease
	for _, l := range leases {
		if l.Holder.Host == serviceHost {
			svcLease = l
		}
	}
	require.NotEmpty(t, svcLease.OwnerID, "the service's lease records its host: %+v", leases)
	require.NoError(t, svc.stop(syscall.SIGTERM, 60*time.Second))
	l, ok, err := look.Lease(ctx, svcLease.OwnerID)
	require.NoError(t, err)
	require.True(t, ok)
	assert.True(t, l.Expired(time.Now().Add(time.Second)), "released at stop: %+v", l)
}

// removeBuckets deletes the buckets and everything in them.
func removeBuckets(endpoint, access, secret string, buckets ...string) {
	ctx := context.Background()
	c := s3.New(s3.Options{Region: "us-east-1", BaseEndpoint: aws.String(endpoint), UsePathStyle: true,
		Credentials: credentials.NewStaticCredentialsProvider(access, secret, "")})
	for _, b := range buckets {
		for {
			out, err := c.ListObjects(ctx, &s3.ListObjectsInput{Bucket: aws.String(b)})
			if err != nil || len(out.Contents) == 0 {
				break
			}
			for _, o := range out.Contents {
				_, _ = c.DeleteObject(ctx, &s3.DeleteObjectInput{Bucket: aws.String(b), Key: o.Key})
			}
		}
		_, _ = c.DeleteBucket(ctx, &s3.DeleteBucketInput{Bucket: aws.String(b)})
	}
}
