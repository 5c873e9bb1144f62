package bank

import (
	"strconv"
	"strings"
)

// Key layout (docs/karbor-behaviour.md#bank-key-layout), relative to the
// bank root. The formats are those of
// karbor/services/protection/checkpoint.py, character for character.
const (
	checkpointsPrefix = "/checkpoints/"
	indicesPrefix     = "/indices/"
	indexFileName     = "index.json"
	byProvider        = "by-provider"
	byDate            = "by-date"
	byPlan            = "by-plan"
)

// IndexKey is the key of a checkpoint's index.json.
func IndexKey(checkpointID string) string {
	return checkpointsPrefix + checkpointID + "/" + indexFileName
}

// ResourceDataPrefix is the section plugins write a resource's data in.
func ResourceDataPrefix(checkpointID, resourceID string) string {
	return checkpointsPrefix + checkpointID + "/resource-data/" + resourceID + "/"
}

// entryName is the last element of every index key: "<timestamp>@<id>".
// With 10-digit timestamps (2001-09-09 to 2286-11-20) lexical order is time
// order, ties broken by id.
func entryName(timestamp int64, checkpointID string) string {
	return strconv.FormatInt(timestamp, 10) + "@" + checkpointID
}

// ByProviderKey is /indices/by-provider/<provider_id>/<project_id>/<ts>@<cid>.
func ByProviderKey(providerID, projectID string, timestamp int64, checkpointID string) string {
	return indicesPrefix + byProvider + "/" + providerID + "/" + projectID + "/" + entryName(timestamp, checkpointID)
}

// ByDateKey is /indices/by-date/<YYYY-MM-DD>/<project_id>/<ts>@<cid>.
func ByDateKey(createdAt, projectID string, timestamp int64, checkpointID string) string {
	return indicesPrefix + byDate + "/" + createdAt + "/" + projectID + "/" + entryName(timestamp, checkpointID)
}

// ByPlanKey is /indices/by-plan/<plan_id>/<project_id>/<YYYY-MM-DD>/<ts>@<cid>.
func ByPlanKey(planID, projectID, createdAt string, timestamp int64, checkpointID string) string {
	return indicesPrefix + byPlan + "/" + planID + "/" + projectID + "/" + createdAt + "/" + entryName(timestamp, checkpointID)
}

// IndexKeys returns the checkpoint's three index keys in the order Python
// writes them (by-provider, by-date, by-plan). Like Python's delete, the
// provider comes from protection_plan.provider_id.
func (c *Checkpoint) IndexKeys() []string {
	return []string{
		ByProviderKey(c.Plan.ProviderID, c.ProjectID, c.Timestamp, c.ID),
		ByDateKey(c.CreatedAt, c.ProjectID, c.Timestamp, c.ID),
		ByPlanKey(c.Plan.ID, c.ProjectID, c.CreatedAt, c.Timestamp, c.ID),
	}
}

// parseEntry splits an index entry name "<timestamp>@<id>". Names of any
// other shape (stray files) are not entries.
func parseEntry(name string) (id string, ok bool) {
	ts, id, found := strings.Cut(name, "@")
	if !found || ts == "" || id == "" {
		return "", false
	}
	for i := 0; i < len(ts); i++ {
		if ts[i] < '0' || ts[i] > '9' {
			return "", false
		}
	}
	return id, true
}
