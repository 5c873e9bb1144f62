// Package s3 is karbor's S3 bank, "karbor-s3-bank-plugin": object key K
// (with its leading "/") is the object K of the bucket
// bank_s3_object_bucket, and each service instance holds a lease object
// <owner_id> in bank_s3_lease_bucket, exactly as karbor's
// karbor/services/protection/bank_plugins/s3_bank_plugin.py lays them out,
// so either service reads the other's bank and sees the other's leases.
//
// Requests are addressed as botocore's default ("auto") addresses them when
// karbor gives it an endpoint_url: path-style (http://host:port/bucket/key)
// for every s3_endpoint, IP address, localhost or host name alike; only
// without s3_endpoint (AWS itself) does the bucket go in the host name.
// They are signed with SigV4 for region us-east-1 (or AWS_DEFAULT_REGION),
// as botocore signs them when karbor gives it no region.
//
// Beyond Python: a bucket that is already ours is not an error at start;
// s3_retry_attempts and s3_retry_backoff bound the retries of failed
// requests (Python registers them and ignores them); listings honour
// marker, direction and limit and cost what the page costs (list.go); and
// every failure names the operation and the server's answer.
package s3

import (
	"context"
	"fmt"
	"net/http"
	"os"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/aws/ratelimit"
	"github.com/aws/aws-sdk-go-v2/aws/retry"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/google/uuid"
	"github.com/sirupsen/logrus"

	"github.com/gokarbor/karbor-protection/bank"
)

// PluginName is the entry-point name provider files use.
const PluginName = "karbor-s3-bank-plugin"

// The provider-file sections the plugin reads.
const (
	ClientSection = "s3_client"
	PluginSection = "s3_bank_plugin"
)

// Defaults, those of the Python plugin and client.
const (
	DefaultObjectBucket  = "karbor"
	DefaultLeaseBucket   = "lease"
	DefaultRegion        = "us-east-1"
	DefaultRetryAttempts = 3
	DefaultRetryBackoff  = 2 * time.Second
)

func init() {
	bank.RegisterConfigured(PluginName, OptionsFromConfig, func(ctx context.Context, opts Options, holder bank.Holder, log *logrus.Entry) (*Plugin, error) {
		opts.Holder, opts.Log = holder, log
		return New(ctx, opts)
	})
}

// Options configure a Plugin.
type Options struct {
	// Endpoint is s3_endpoint; "" means AWS itself, as for botocore.
	Endpoint string
	// AccessKey and SecretKey are s3_access_key and s3_secret_key; when
	// both are empty the AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY
	// environment variables are used, as botocore would.
	AccessKey, SecretKey string
	// Region signs the requests; "" means us-east-1.
	Region string
	// RetryAttempts is s3_retry_attempts: retries after a failed attempt
	// (so RetryAttempts+1 attempts in all); 0 means none, negative means
	// the default 3.
	RetryAttempts int
	// RetryBackoff is s3_retry_backoff, the longest pause between two
	// attempts (exponential with jitter below it); negative means the
	// default 2 s.
	RetryBackoff time.Duration
	// ObjectBucket and LeaseBucket are bank_s3_object_bucket and
	// bank_s3_lease_bucket; "" means "karbor" and "lease".
	ObjectBucket, LeaseBucket string
	// OwnerID is this instance's owner id; "" means a new random UUID.
	OwnerID string
	// Holder is recorded in the lease.
	Holder bank.Holder
	// Lease windows; zero means the default.
	LeaseExpireWindow, LeaseRenewWindow, LeaseValidityWindow time.Duration
	// Clock tells the time for leases; nil means time.Now.
	Clock func() time.Time
	// Log receives renewal failures; nil means the standard logger.
	Log *logrus.Entry
	// HTTPClient sends the requests; nil means a client with the SDK's
	// defaults (connection reuse, timeouts on dial and TLS).
	HTTPClient *http.Client
}

// OptionsFromConfig reads [s3_client] and [s3_bank_plugin] of a provider
// file, the options the Python plugin registers there.
func OptionsFromConfig(conf bank.Config) (Options, error) {
	opts := Options{RetryAttempts: -1, RetryBackoff: -1}
	str := func(section, key string) string {
		v, _ := conf.Get(section, key)
		return strings.TrimSpace(v)
	}
	opts.Endpoint = str(ClientSection, "s3_endpoint")
	opts.AccessKey = str(ClientSection, "s3_access_key")
	opts.SecretKey = str(ClientSection, "s3_secret_key")
	opts.ObjectBucket = str(PluginSection, "bank_s3_object_bucket")
	opts.LeaseBucket = str(PluginSection, "bank_s3_lease_bucket")
	opts.Region = os.Getenv("AWS_DEFAULT_REGION")
	ints := []struct {
		section, key string
		min          int
		set          func(int)
	}{
		{ClientSection, "s3_retry_attempts", 0, func(n int) { opts.RetryAttempts = n }},
		{ClientSection, "s3_retry_backoff", 0, func(n int) { opts.RetryBackoff = time.Duration(n) * time.Second }},
		{PluginSection, "lease_expire_window", 1, func(n int) { opts.LeaseExpireWindow = time.Duration(n) * time.Second }},
		{PluginSection, "lease_renew_window", 1, func(n int) { opts.LeaseRenewWindow = time.Duration(n) * time.Second }},
		{PluginSection, "lease_validity_window", 1, func(n int) { opts.LeaseValidityWindow = time.Duration(n) * time.Second }},
	}
	for _, o := range ints {
		v, ok := conf.Get(o.section, o.key)
		if !ok || strings.TrimSpace(v) == "" {
			continue
		}
		n, err := strconv.Atoi(strings.TrimSpace(v))
		if err != nil || n < o.min {
			return opts, &bank.ConfigError{Plugin: PluginName, Section: o.section, Key: o.key, Reason: fmt.Sprintf("%q is not an integer of at least %d", v, o.min)}
		}
		o.set(n)
	}
	return opts, nil
}

func (o *Options) setDefaults() error {
	cfgErr := func(section, key, reason string) error {
		return &bank.ConfigError{Plugin: PluginName, Section: section, Key: key, Reason: reason}
	}
	if o.Endpoint != "" {
		if !strings.HasPrefix(o.Endpoint, "http://") && !strings.HasPrefix(o.Endpoint, "https://") {
			return cfgErr(ClientSection, "s3_endpoint", fmt.Sprintf("%q is not an http:// or https:// URL", o.Endpoint))
		}
	}
	if o.AccessKey == "" && o.SecretKey == "" {
		o.AccessKey, o.SecretKey = os.Getenv("AWS_ACCESS_KEY_ID"), os.Getenv("AWS_SECRET_ACCESS_KEY")
	}
	if o.AccessKey == "" || o.SecretKey == "" {
		return cfgErr(ClientSection, "s3_access_key", "s3_access_key and s3_secret_key are required (or AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY in the environment)")
	}
	if o.Region == "" {
		o.Region = DefaultRegion
	}
	if o.RetryAttempts < 0 {
		o.RetryAttempts = DefaultRetryAttempts
	}
	if o.RetryBackoff < 0 {
		o.RetryBackoff = DefaultRetryBackoff
	}
	if o.ObjectBucket == "" {
		o.ObjectBucket = DefaultObjectBucket
	}
	if o.LeaseBucket == "" {
		o.LeaseBucket = DefaultLeaseBucket
	}
	for _, b := range []struct{ key, name string }{{"bank_s3_object_bucket", o.ObjectBucket}, {"bank_s3_lease_bucket", o.LeaseBucket}} {
		if err := checkBucket(b.name); err != nil {
			return cfgErr(PluginSection, b.key, err.Error())
		}
	}
	if o.ObjectBucket == o.LeaseBucket {
		return cfgErr(PluginSection, "bank_s3_lease_bucket", fmt.Sprintf("%q is also bank_s3_object_bucket; a lease object would read as a bank object", o.LeaseBucket))
	}
	if o.OwnerID == "" {
		o.OwnerID = uuid.NewString()
	}
	if !bank.ValidOwnerID(o.OwnerID) {
		return fmt.Errorf("s3 bank: invalid owner id %q", o.OwnerID)
	}
	if err := bank.SetLeaseWindows(PluginName, PluginSection, &o.LeaseExpireWindow, &o.LeaseRenewWindow, &o.LeaseValidityWindow); err != nil {
		return err
	}
	if o.Clock == nil {
		o.Clock = time.Now
	}
	if o.Log == nil {
		o.Log = logrus.NewEntry(logrus.StandardLogger())
	}
	return nil
}

// checkBucket accepts S3's bucket names: 3 to 63 characters of lower-case
// letters, digits, "-" and "."; Swift's s3api also takes upper case and
// "_" (they force path-style addressing, as in botocore).
func checkBucket(name string) error {
	if len(name) < 3 || len(name) > 63 {
		return fmt.Errorf("bucket name %q must have 3 to 63 characters", name)
	}
	for _, c := range name {
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-' || c == '.' || c == '_') {
			return fmt.Errorf("bucket name %q may only hold letters, digits, '-', '.' and '_'", name)
		}
	}
	return nil
}

// Plugin is the S3 bank. It implements bank.Plugin.
type Plugin struct {
	client *s3.Client
	opts   Options
	log    *logrus.Entry
	fences *fenceCache

	expiry  bank.LeaseExpiry
	renewal bank.LeaseLoop

	closeOnce sync.Once
	closeErr  error
}

var _ bank.Plugin = (*Plugin)(nil)

// New builds the client, creates both buckets (one already ours is fine),
// takes the lease and renews it until Close.
func New(ctx context.Context, opts Options) (*Plugin, error) {
	if err := opts.setDefaults(); err != nil {
		return nil, err
	}
	p := &Plugin{
		client: newClient(opts),
		opts:   opts,
		log:    opts.Log.WithFields(logrus.Fields{"bank": PluginName, "owner_id": opts.OwnerID}),
		fences: newFenceCache(fenceCachePrefixes),
	}
	for _, b := range []string{opts.ObjectBucket, opts.LeaseBucket} {
		if err := p.createBucket(ctx, b); err != nil {
			return nil, err
		}
	}
	if err := p.AcquireLease(ctx); err != nil {
		return nil, err
	}
	p.renewal.Start(ctx, p.renewLoop)
	return p, nil
}

// newClient is botocore's client as karbor creates it: static keys, SigV4,
// path-style addressing with an endpoint, plus bounded retries and no checksum headers the S3 clones of karbor's
// era refuse (the SDK would otherwise send aws-chunked bodies with CRC32
// trailers).
func newClient(opts Options) *s3.Client {
	return s3.New(s3.Options{
		Region:      opts.Region,
		Credentials: credentials.NewStaticCredentialsProvider(opts.AccessKey, opts.SecretKey, ""),
		BaseEndpoint: func() *string {
			if opts.Endpoint == "" {
				return nil
			}
			return aws.String(opts.Endpoint)
		}(),
		UsePathStyle: opts.Endpoint != "",
		Retryer: retry.NewStandard(func(o *retry.StandardOptions) {
			o.MaxAttempts = opts.RetryAttempts + 1
			o.MaxBackoff = opts.RetryBackoff
			if opts.RetryBackoff == 0 {
				o.Backoff = retry.BackoffDelayerFunc(func(int, error) (time.Duration, error) { return 0, nil })
			}
			// Every request has its own budget of attempts; a shared token
			// bucket would fail unrelated requests during a storm.
			o.RateLimiter = ratelimit.None
		}),
		RequestChecksumCalculation:                aws.RequestChecksumCalculationWhenRequired,
		ResponseChecksumValidation:                aws.ResponseChecksumValidationWhenRequired,
		DisableLogOutputChecksumValidationSkipped: true,
		HTTPClient: func() s3.HTTPClient {
			if opts.HTTPClient == nil {
				return nil
			}
			return opts.HTTPClient
		}(),
	})
}

// OwnerID implements bank.Plugin.
func (p *Plugin) OwnerID() string { return p.opts.OwnerID }

// Ping implements bank.Plugin: a HeadBucket of the object bucket.
func (p *Plugin) Ping(ctx context.Context) error {
	_, err := p.client.HeadBucket(ctx, &s3.HeadBucketInput{Bucket: aws.String(p.opts.ObjectBucket)})
	if err != nil {
		return fmt.Errorf("s3 bank: bucket %s at %s: %w", p.opts.ObjectBucket, p.endpoint(), p.newError("HeadBucket", err))
	}
	return nil
}

// Close stops renewing and stores the lease expired, so this instance's
// unfinished checkpoints are recognised as orphaned at once.
func (p *Plugin) Close() error {
	p.closeOnce.Do(func() {
		p.renewal.Stop()
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		if err := p.releaseLease(ctx); err != nil {
			p.closeErr = &bank.LeaseError{OwnerID: p.opts.OwnerID, Err: fmt.Errorf("release lease: %w", err)}
		}
		p.expiry.Set(time.Time{})
	})
	return p.closeErr
}
