package s3

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"os"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/gokarbor/karbor-protection/bank/internal/banktest"
)

// TestConformance runs the bank plugin conformance suite on each S3
// endpoint, every store in its own pair of buckets.
func TestConformance(t *testing.T) {
	forEachPeer(t, func(t *testing.T, pr peer) {
		var run [4]byte
		_, _ = rand.Read(run[:])
		var mu sync.Mutex
		seen := map[string]bool{}
		banktest.Run(t, func(t *testing.T, store string, w banktest.Options) banktest.Instance {
			// The suite's short lease (3 s, renewed every second) leaves a
			// renewal about a second to land. Under load a request to the
			// tempauth proxy can take longer, and one to the Keystone proxy
			// (s3token asks Keystone about every request) several seconds,
			// so the windows are stretched: twice on tempauth, where a lease
			// that is not renewed still runs out within the suite's checks,
			// five times on Keystone, where those checks only show that
			// leases are stored, read back and released through s3token.
			scale := time.Duration(2)
			if pr.name == "keystone" {
				scale = 5
			}
			w.Expire, w.Renew, w.Validity = scale*w.Expire, scale*w.Renew, scale*w.Validity
			sum := sha256.Sum256(append(run[:], store...))
			bucket := "kgo-conf-" + hex.EncodeToString(sum[:8])
			opts := Options{Endpoint: pr.endpoint, AccessKey: pr.access, SecretKey: pr.secret, RetryAttempts: -1, RetryBackoff: -1,
				Region: os.Getenv("KARBOR_TEST_S3_REGION"), ObjectBucket: bucket, LeaseBucket: bucket + "-l",
				LeaseExpireWindow: w.Expire, LeaseRenewWindow: w.Renew, LeaseValidityWindow: w.Validity, Holder: w.Holder}
			mu.Lock()
			first := !seen[store]
			seen[store] = true
			mu.Unlock()
			if first {
				t.Cleanup(func() {
					o := opts
					require.NoError(t, o.setDefaults())
					c := newClient(o)
					ctx := context.Background()
					for _, b := range []string{o.ObjectBucket, o.LeaseBucket} {
						emptyBucket(ctx, c, b)
						_, _ = c.DeleteBucket(ctx, &s3.DeleteBucketInput{Bucket: aws.String(b)})
					}
				})
			}
			p, err := New(context.Background(), opts)
			require.NoError(t, err)
			t.Cleanup(func() { assert.NoError(t, p.Close()) })
			var once sync.Once
			return banktest.Instance{Plugin: p, Crash: func() {
				once.Do(func() {
					p.renewal.Stop()
				})
			}}
		})
	})
}
