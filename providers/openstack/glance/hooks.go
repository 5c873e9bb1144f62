package glance

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/gophercloud/gophercloud/v2/openstack/image/v2/imagedata"
	"github.com/gophercloud/gophercloud/v2/openstack/image/v2/images"

	"github.com/gokarbor/karbor-protection/bank"
	"github.com/gokarbor/karbor-protection/pkg/karbor"
	"github.com/gokarbor/karbor-protection/pkg/logctx"
	"github.com/gokarbor/karbor-protection/providers"
	"github.com/gokarbor/karbor-protection/providers/openstack/clients"
)

// The name karbor's exceptions give the resource.
const (
	backupName = "Image Backup"
	verifyName = "Image backup"
)

// metadata is the section's "metadata" object, in the Python plugin's key
// order.
type metadata struct {
	ResourceID    string        `json:"resource_id"`
	ServerID      string        `json:"server_id,omitempty"`
	ImageMetadata imageMetadata `json:"image_metadata"`
	ChunksNum     *int          `json:"chunks_num,omitempty"`
}

type imageMetadata struct {
	DiskFormat      string  `json:"disk_format"`
	ContainerFormat string  `json:"container_format"`
	Checksum        *string `json:"checksum"`
}

// cleanupTimeout bounds the bank writes that record a failure after the
// operation's context has ended.
const cleanupTimeout = time.Minute

func detached(ctx context.Context) (context.Context, context.CancelFunc) {
	return context.WithTimeout(context.WithoutCancel(ctx), cleanupTimeout)
}

type protectHooks struct {
	providers.BaseHooks
	p *Plugin
}

func (h protectHooks) OnMain(ctx context.Context, a *providers.HookArgs) error {
	id := a.Resource.ID
	sec, err := a.Checkpoint.ResourceSection(id)
	if err != nil {
		return karbor.CreateResourceFailed(backupName, err.Error(), id, karbor.ImageResourceType)
	}
	return h.run(ctx, a, sec)
}

// run protects the image into sec, recording its status there.
func (h protectHooks) run(ctx context.Context, a *providers.HookArgs, sec *bank.Section) error {
	id := a.Resource.ID
	if err := sec.PutString(ctx, "status", karbor.ResourceStatusProtecting); err != nil {
		return karbor.CreateResourceFailed(backupName, err.Error(), id, karbor.ImageResourceType)
	}
	if err := h.protect(ctx, a, sec); err != nil {
		dctx, cancel := detached(ctx)
		defer cancel()
		if serr := sec.PutString(dctx, "status", karbor.ResourceStatusError); serr != nil {
			err = errors.Join(err, serr)
		}
		return karbor.CreateResourceFailed(backupName, err.Error(), id, karbor.ImageResourceType)
	}
	return nil
}

func (h protectHooks) protect(ctx context.Context, a *providers.HookArgs, sec *bank.Section) (err error) {
	id := a.Resource.ID
	glance, err := h.p.clients.Client(ctx, a.Request, clients.Glance)
	if err != nil {
		return err
	}
	md := metadata{ResourceID: id}
	imageID := id
	if server := serverParent(a.Resource); server != "" && h.p.opts.ServerSnapshot {
		md.ServerID = server
		if imageID, err = h.serverSnapshot(ctx, a, glance, server); err != nil {
			return err
		}
		// The snapshot only carries the bytes into the bank; it goes
		// whatever happens (Python keeps it when the copy fails).
		defer func() {
			if derr := deleteImage(ctx, glance, imageID); derr != nil {
				logctx.From(ctx).WithError(derr).Warning("Failed to delete temporary image")
			}
		}()
	}
	img, err := waitActive(ctx, glance, imageID, h.p.opts.PollInterval)
	if err != nil {
		return err
	}
	md.ImageMetadata = imageMetadata{DiskFormat: img.DiskFormat, ContainerFormat: img.ContainerFormat}
	if img.Checksum != "" {
		md.ImageMetadata.Checksum = &img.Checksum
	}
	if err := sec.PutJSON(ctx, "metadata", md); err != nil {
		return err
	}
	want, err := imageDigest(img)
	if err != nil {
		return err
	}
	dctx, stop := context.WithCancel(ctx)
	defer stop()
	body, err := imagedata.Download(dctx, glance, imageID).Extract()
	if err != nil {
		return fmt.Errorf("download image %s: %w", imageID, err)
	}
	n, err := writeChunks(ctx, sec, body, h.p.opts.ObjectSize, want.hash(), stop)
	_ = body.Close()
	if err != nil {
		return fmt.Errorf("copy image %s to the bank: %w", imageID, err)
	}
	if err := want.check(imageID); err != nil {
		return err
	}
	// The bytes may be complete and still belong to an image deleted
	// meanwhile (Glance's file store serves an open file to its end).
	if now, err := images.Get(ctx, glance, imageID).Extract(); err != nil {
		return fmt.Errorf("image %s after its download: %w", imageID, err)
	} else if now.Status != images.ImageStatusActive {
		return &statusError{id: imageID, status: string(now.Status)}
	}
	md.ChunksNum = &n
	if err := sec.PutJSON(ctx, "metadata", md); err != nil {
		return err
	}
	return sec.PutString(ctx, "status", karbor.ResourceStatusAvailable)
}

type restoreHooks struct {
	providers.BaseHooks
	p *Plugin
}

func (h restoreHooks) OnMain(ctx context.Context, a *providers.HookArgs) error {
	id := a.Resource.ID
	a.Report(ctx, karbor.ResourceStatusRestoring, "")
	sec, err := a.Checkpoint.ResourceSection(id)
	newID := ""
	if err == nil {
		newID, err = h.restore(ctx, a, sec)
	}
	if err != nil {
		a.Report(ctx, karbor.ResourceStatusError, err.Error())
		return karbor.RestoreResourceFailed(backupName, err.Error(), id, karbor.ImageResourceType)
	}
	a.NewResources.Set(id, newID)
	a.Report(ctx, karbor.ResourceStatusAvailable, "")
	return nil
}

func (h restoreHooks) restore(ctx context.Context, a *providers.HookArgs, sec *bank.Section) (newID string, err error) {
	var md metadata
	if err := sec.GetJSON(ctx, "metadata", &md); err != nil {
		return "", err
	}
	names, err := chunkNames(ctx, sec)
	if err != nil {
		return "", err
	}
	if md.ChunksNum == nil || len(names) != *md.ChunksNum {
		//lint:ignore ST1005 Python's text
		return "", fmt.Errorf("The chunks num of restored image is invalid: %d objects, metadata says %s", len(names), chunksText(md.ChunksNum))
	}
	glance, err := h.p.clients.Client(ctx, a.Request, clients.Glance)
	if err != nil {
		return "", err
	}
	name := a.Parameters["restore_name"]
	if name == "" {
		name = "karbor-restore-image"
	}
	img, err := images.Create(ctx, glance, images.CreateOpts{Name: name, DiskFormat: md.ImageMetadata.DiskFormat, ContainerFormat: md.ImageMetadata.ContainerFormat}).Extract()
	if err != nil {
		return "", fmt.Errorf("create image: %w", err)
	}
	defer func() {
		if err != nil {
			if derr := deleteImage(ctx, glance, img.ID); derr != nil {
				err = errors.Join(err, derr)
			}
		}
	}()
	data := newChunkReader(ctx, sec, names)
	if err := imagedata.Upload(ctx, glance, img.ID, data).ExtractErr(); err != nil {
		return "", fmt.Errorf("upload image %s: %w", img.ID, err)
	}
	got, err := waitActive(ctx, glance, img.ID, h.p.opts.PollInterval)
	if err != nil {
		return "", err
	}
	if want := md.ImageMetadata.Checksum; want != nil && got.Checksum != *want {
		//lint:ignore ST1005 Python's text
		return "", fmt.Errorf("The checksum of restored image is invalid: %s, saved %s", got.Checksum, *want)
	}
	if got.Checksum != data.checksum() {
		//lint:ignore ST1005 Python's text
		return "", fmt.Errorf("The checksum of restored image is invalid: Glance has %s for the %s uploaded", got.Checksum, data.checksum())
	}
	return img.ID, nil
}

func chunksText(n *int) string {
	if n == nil {
		return "none"
	}
	return fmt.Sprint(*n)
}

type verifyHooks struct{ providers.BaseHooks }

func (verifyHooks) OnMain(ctx context.Context, a *providers.HookArgs) error {
	sec, err := a.Checkpoint.ResourceSection(a.Resource.ID)
	return verify(ctx, a, sec, err)
}

// verify checks the saved status in sec (or the error that gave no sec).
func verify(ctx context.Context, a *providers.HookArgs, sec *bank.Section, err error) error {
	return providers.VerifySectionStatus(ctx, a, sec, err, verifyName, "image")
}

type deleteHooks struct{ providers.BaseHooks }

func (deleteHooks) OnMain(ctx context.Context, a *providers.HookArgs) error {
	id := a.Resource.ID
	sec, err := a.Checkpoint.ResourceSection(id)
	if err == nil {
		err = providers.DeleteSectionData(ctx, sec)
	}
	if err != nil {
		if sec != nil {
			dctx, cancel := detached(ctx)
			defer cancel()
			if serr := sec.PutString(dctx, "status", karbor.ResourceStatusError); serr != nil {
				err = errors.Join(err, serr)
			}
		}
		return karbor.DeleteResourceFailed(backupName, err.Error(), id, karbor.ImageResourceType)
	}
	return nil
}
