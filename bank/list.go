package bank

import (
	"context"
	"errors"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"
)

// ListQuery is a list_checkpoints request as karbor's API sends it
// (docs/karbor-behaviour.md#list_checkpoints).
type ListQuery struct {
	ProviderID string
	// ProjectID is the caller's project (context project_id).
	ProjectID string
	// FilterProjectID is filters.project_id; as in karbor it only matters
	// together with AllTenants, and then narrows the listing to it.
	FilterProjectID string
	// AllTenants lists every project (admins only; the API decides).
	AllTenants bool
	PlanID     string
	// StartDate and EndDate are filters.start_date/end_date, %Y-%m-%d,
	// inclusive. A start without an end runs to today (UTC).
	StartDate, EndDate string
	// Marker is a checkpoint id; results are those strictly after it in
	// the listing order.
	Marker string
	// Limit caps the results; 0 means no limit.
	Limit int
	// SortDir is sort_dirs[0]: "desc" (any case) lists newest first,
	// anything else (normally "asc"; the copy API sends none) oldest first.
	SortDir string
}

// List returns the checkpoints of a listing, read from their index.json.
// An index entry whose index.json is gone fails the call with a
// CheckpointNotFoundError, as in Python.
//
// A checkpoint already marked deleted is left out: Delete writes that
// status before it removes the index keys, and a listing that falls
// between the two must not show it. The page is refilled after it, so a
// full page still means there may be more.
func (c *Checkpoints) List(ctx context.Context, q ListQuery) ([]*Checkpoint, error) {
	want := q.Limit
	out := []*Checkpoint{}
	for {
		ids, err := c.ListIDs(ctx, q)
		if err != nil {
			return nil, err
		}
		for _, id := range ids {
			cp, err := c.Get(ctx, id)
			if err != nil {
				return nil, err
			}
			if cp.Status != StatusDeleted {
				out = append(out, cp)
			}
		}
		if want <= 0 || len(ids) < q.Limit || len(out) >= want {
			return out, nil
		}
		q.Marker, q.Limit = ids[len(ids)-1], want-len(out)
	}
}

// ListIDs returns the ids of a listing, ordered by creation time
// (timestamp, then id) in the requested direction, strictly after the
// marker, at most Limit. It reads index keys only (plus the marker's
// index.json): the cost follows the page, not the bank.
//
// Which index is used is Python's (docs/karbor-behaviour.md#listing-algorithm):
// by-provider without plan or dates,
// by-plan with a plan, by-date with dates and no plan. So, as in Python,
// plan and date listings are not restricted to the provider.
func (c *Checkpoints) ListIDs(ctx context.Context, q ListQuery) ([]string, error) {
	project, all := q.ProjectID, q.AllTenants
	if q.FilterProjectID != "" && all {
		project, all = q.FilterProjectID, false
	}
	dates, err := c.dateRange(q.StartDate, q.EndDate)
	if err != nil {
		return nil, err
	}
	for _, seg := range []string{q.ProviderID, q.PlanID, project} {
		if seg != "" {
			if err := validateSegment(seg); err != nil {
				return nil, err
			}
			if len(seg) > maxSegment {
				return []string{}, nil // Create refuses it: no checkpoint has it
			}
		}
	}
	if q.ProviderID == "" || (project == "" && !all) {
		return []string{}, nil
	}
	l := &lister{bank: c.bank, desc: strings.EqualFold(q.SortDir, "desc"), dates: dates, page: q.Limit}
	if l.page <= 0 {
		l.page = defaultPage
	}
	if q.Marker != "" {
		if err := l.setMarker(ctx, q.Marker); err != nil {
			return nil, err
		}
	}
	src, err := l.source(ctx, q.ProviderID, q.PlanID, project, all)
	if err != nil {
		return nil, err
	}
	ids := []string{}
	for q.Limit <= 0 || len(ids) < q.Limit {
		name, ok, err := src.next(ctx)
		if err != nil {
			return nil, err
		}
		if !ok {
			break
		}
		id, _ := parseEntry(name)
		ids = append(ids, id)
	}
	return ids, nil
}

// defaultPage is the page size asked of the bank when there is no limit.
const defaultPage = 1000

// dateRange is an inclusive range of YYYY-MM-DD strings; "" is unbounded.
type dateRange struct{ lo, hi string }

func (r *dateRange) contains(date string) bool {
	if r == nil {
		return true
	}
	if !isDate(date) {
		return false
	}
	return (r.lo == "" || date >= r.lo) && (r.hi == "" || date <= r.hi)
}

// dateRange parses the filters. Python ignores an end date given alone; it
// is honoured here (everything up to it).
func (c *Checkpoints) dateRange(start, end string) (*dateRange, error) {
	if start == "" && end == "" {
		return nil, nil
	}
	r := &dateRange{}
	var err error
	if start != "" {
		if r.lo, err = ParseDate(start); err != nil {
			return nil, err
		}
	}
	if end != "" {
		if r.hi, err = ParseDate(end); err != nil {
			return nil, err
		}
	} else {
		r.hi = c.clock().UTC().Format(time.DateOnly)
	}
	return r, nil
}

var dateFilterRE = regexp.MustCompile(`^(\d{4})-(\d{1,2})-(\d{1,2})$`)

// ParseDate parses a date filter as Python's strptime(s, "%Y-%m-%d") does
// (month and day may have one digit) and returns it as YYYY-MM-DD. Errors
// are DateErrors.
func ParseDate(s string) (string, error) {
	m := dateFilterRE.FindStringSubmatch(s)
	if m == nil {
		return "", &DateError{Value: s}
	}
	y, _ := strconv.Atoi(m[1])
	mo, _ := strconv.Atoi(m[2])
	d, _ := strconv.Atoi(m[3])
	t := time.Date(y, time.Month(mo), d, 0, 0, 0, 0, time.UTC)
	if y == 0 || t.Year() != y || int(t.Month()) != mo || t.Day() != d {
		return "", &DateError{Value: s}
	}
	return t.Format(time.DateOnly), nil
}

// isDate reports whether an index directory name is a YYYY-MM-DD date.
func isDate(s string) bool {
	_, err := time.Parse(time.DateOnly, s)
	return err == nil
}

// lister builds the stream of index entries of one listing.
type lister struct {
	bank  *Bank
	desc  bool
	dates *dateRange
	page  int
	// pos is the marker's entry name "<ts>@<id>" and markerDate its
	// created_at; both empty without a marker.
	pos, markerDate string
}

func (l *lister) setMarker(ctx context.Context, id string) error {
	if err := checkID(id); err != nil {
		var nf *CheckpointNotFoundError
		if errors.As(err, &nf) {
			return &ObjectError{Op: OpGet, Key: IndexKey(id), Err: ErrNotFound}
		}
		return err
	}
	obj, err := l.bank.GetObject(ctx, IndexKey(id))
	if err != nil {
		return err // BankGetObjectFailed, as in Python
	}
	cp, err := DecodeIndex(id, obj.Data)
	if err != nil {
		return err
	}
	l.pos, l.markerDate = entryName(cp.Timestamp, id), cp.CreatedAt
	return nil
}

func (l *lister) source(ctx context.Context, provider, plan, project string, all bool) (entrySource, error) {
	switch {
	case plan != "":
		base := indicesPrefix + byPlan + "/" + plan + "/"
		if !all {
			return l.planProject(ctx, base+project+"/")
		}
		projects, err := l.subdirs(ctx, base, nil)
		if err != nil {
			return nil, err
		}
		var children []entrySource
		for _, p := range projects {
			s, err := l.planProject(ctx, base+p+"/")
			if err != nil {
				return nil, err
			}
			children = append(children, s)
		}
		return newMerge(ctx, l.desc, children)
	case l.dates != nil:
		base := indicesPrefix + byDate + "/"
		dates, err := l.subdirs(ctx, base, l.keepDate)
		if err != nil {
			return nil, err
		}
		return &concat{open: func(ctx context.Context, i int) (entrySource, bool, error) {
			if i >= len(dates) {
				return nil, false, nil
			}
			dir := base + dates[i] + "/"
			if !all {
				return l.leaf(dir + project + "/"), true, nil
			}
			s, err := l.mergeProjects(ctx, dir)
			return s, true, err
		}}, nil
	default:
		base := indicesPrefix + byProvider + "/" + provider + "/"
		if !all {
			return l.leaf(base + project + "/"), nil
		}
		return l.mergeProjects(ctx, base)
	}
}

// planProject is one project's entries of a plan: its date directories in
// order, one after the other.
func (l *lister) planProject(ctx context.Context, dir string) (entrySource, error) {
	dates, err := l.subdirs(ctx, dir, l.keepDate)
	if err != nil {
		return nil, err
	}
	return &concat{open: func(_ context.Context, i int) (entrySource, bool, error) {
		if i >= len(dates) {
			return nil, false, nil
		}
		return l.leaf(dir + dates[i] + "/"), true, nil
	}}, nil
}

// mergeProjects merges the entries of every project directory under dir.
func (l *lister) mergeProjects(ctx context.Context, dir string) (entrySource, error) {
	projects, err := l.subdirs(ctx, dir, nil)
	if err != nil {
		return nil, err
	}
	children := make([]entrySource, len(projects))
	for i, p := range projects {
		children[i] = l.leaf(dir + p + "/")
	}
	return newMerge(ctx, l.desc, children)
}

// keepDate selects the date directories worth opening: inside the date
// filter, and not before (in listing order) the marker's date, since every
// entry of a date directory has a timestamp of that date.
func (l *lister) keepDate(date string) bool {
	if !l.dates.contains(date) {
		return false
	}
	if l.markerDate == "" {
		return true
	}
	if l.desc {
		return date <= l.markerDate
	}
	return date >= l.markerDate
}

// subdirs lists the directory names under prefix, in listing order.
func (l *lister) subdirs(ctx context.Context, prefix string, keep func(string) bool) ([]string, error) {
	var names []string
	marker := ""
	for {
		keys, err := l.bank.ListObjects(ctx, ListOptions{Prefix: prefix, Marker: marker, Limit: defaultPage, Delimiter: true})
		if err != nil {
			return nil, err
		}
		for _, k := range keys {
			name, isDir := strings.CutSuffix(strings.TrimPrefix(k, prefix), "/")
			if isDir && (keep == nil || keep(name)) {
				names = append(names, name)
			}
		}
		if len(keys) < defaultPage {
			break
		}
		marker = keys[len(keys)-1]
	}
	if l.desc {
		slices.Reverse(names)
	}
	return names, nil
}

func (l *lister) leaf(dir string) *leaf {
	lf := &leaf{bank: l.bank, dir: dir, desc: l.desc, page: l.page}
	if l.pos != "" {
		lf.marker = dir + l.pos
	}
	return lf
}
