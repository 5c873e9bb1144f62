package neutron

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/gophercloud/gophercloud/v2"

	"github.com/gokarbor/karbor-protection/pkg/karbor"
	"github.com/gokarbor/karbor-protection/providers"
)

// The saved objects as a restore reads them. Pointers tell a key Neutron
// did not send (an extension that is off) from a false or empty value.
type (
	savedNetwork struct {
		ID           string `json:"id"`
		Name         string `json:"name"`
		AdminStateUp *bool  `json:"admin_state_up"`
		PortSecurity *bool  `json:"port_security_enabled"`
		Shared       *bool  `json:"shared"`
		External     *bool  `json:"router:external"`
	}
	savedSubnet struct {
		ID              string          `json:"id"`
		Name            string          `json:"name"`
		NetworkID       string          `json:"network_id"`
		CIDR            string          `json:"cidr"`
		IPVersion       json.RawMessage `json:"ip_version"`
		GatewayIP       *string         `json:"gateway_ip"`
		EnableDHCP      json.RawMessage `json:"enable_dhcp"`
		AllocationPools json.RawMessage `json:"allocation_pools"`
		DNSNameservers  json.RawMessage `json:"dns_nameservers"`
		HostRoutes      json.RawMessage `json:"host_routes"`
		TenantID        json.RawMessage `json:"tenant_id"`
	}
	fixedIP struct {
		SubnetID  string `json:"subnet_id"`
		IPAddress string `json:"ip_address"`
	}
	savedPort struct {
		ID                  string           `json:"id"`
		Name                string           `json:"name"`
		NetworkID           string           `json:"network_id"`
		AdminStateUp        *bool            `json:"admin_state_up"`
		DeviceID            string           `json:"device_id"`
		DeviceOwner         string           `json:"device_owner"`
		MACAddress          string           `json:"mac_address"`
		PortSecurity        *bool            `json:"port_security_enabled"`
		FixedIPs            []fixedIP        `json:"fixed_ips"`
		AllowedAddressPairs []map[string]any `json:"allowed_address_pairs"`
		SecurityGroups      []string         `json:"security_groups"`
	}
	savedRouter struct {
		ID           string `json:"id"`
		Name         string `json:"name"`
		AdminStateUp *bool  `json:"admin_state_up"`
		Gateway      *struct {
			NetworkID string `json:"network_id"`
		} `json:"external_gateway_info"`
	}
	savedRule struct {
		Direction      string          `json:"direction"`
		Ethertype      string          `json:"ethertype"`
		Protocol       json.RawMessage `json:"protocol"`
		PortRangeMin   json.RawMessage `json:"port_range_min"`
		PortRangeMax   json.RawMessage `json:"port_range_max"`
		RemoteIPPrefix *string         `json:"remote_ip_prefix"`
		RemoteGroupID  *string         `json:"remote_group_id"`
		// RemoteAddressGroupID is kept as saved: a rule from an address
		// group must not come back as a rule from anywhere.
		RemoteAddressGroupID *string `json:"remote_address_group_id"`
		ID                   string  `json:"id"`
	}
	savedGroup struct {
		ID          string      `json:"id"`
		Name        string      `json:"name"`
		Description string      `json:"description"`
		Rules       []savedRule `json:"security_group_rules"`
	}
)

// The device owners of ports Neutron makes itself, which a restore does
// not create (router interfaces are re-added to their routers instead).
const ownerRouterInterface = "network:router_interface"

var ownedByNeutron = []string{ownerRouterInterface, "network:router_gateway", "network:dhcp", "network:floatingip"}

// decode reads every saved object of a kind, in id order.
func decode[T any](what string, objs objects) ([]T, error) {
	ids := make([]string, 0, len(objs))
	for id := range objs {
		ids = append(ids, id)
	}
	slices.Sort(ids)
	out := make([]T, 0, len(ids))
	for _, id := range ids {
		raw, err := json.Marshal(objs[id])
		var v T
		if err == nil {
			err = json.Unmarshal(raw, &v)
		}
		if err != nil {
			return nil, fmt.Errorf("the checkpoint's %s %s cannot be read: %w", what, id, err)
		}
		out = append(out, v)
	}
	return out, nil
}

// restorer recreates one saved topology in the caller's project and
// remembers what it made, to remove it if a later step fails.
type restorer struct {
	c        *gophercloud.ServiceClient
	interval time.Duration
	project  string
	// gateway is the public_network_id parameter: the external network
	// of restored routers' gateways, instead of the saved one.
	gateway string

	nets    []savedNetwork
	subnets []savedSubnet
	ports   []savedPort
	routers []savedRouter
	groups  []savedGroup

	// ids maps every original id to its new one.
	ids map[string]string
	// undo removes what was made, in the order it was made.
	undo []undoStep
	// defaultGroup is the project's default security group (looked up once).
	defaultGroup string
}

type undoStep struct {
	what string
	run  func(ctx context.Context) error
}

func newRestorer(c *gophercloud.ServiceClient, interval time.Duration, project string, params map[string]string, md *metadata) (*restorer, error) {
	r := &restorer{c: c, interval: interval, project: project, gateway: params["public_network_id"], ids: map[string]string{}}
	var err error
	if r.nets, err = decode[savedNetwork]("network", md.Networks); err != nil {
		return nil, err
	}
	if r.subnets, err = decode[savedSubnet]("subnet", md.Subnets); err != nil {
		return nil, err
	}
	if r.ports, err = decode[savedPort]("port", md.Ports); err != nil {
		return nil, err
	}
	if r.routers, err = decode[savedRouter]("router", md.Routers); err != nil {
		return nil, err
	}
	if r.groups, err = decode[savedGroup]("security group", md.SecurityGroups); err != nil {
		return nil, err
	}
	return r, nil
}

// made records something created, and how to remove it.
func (r *restorer) made(what string, run func(ctx context.Context) error) {
	r.undo = append(r.undo, undoStep{what: what, run: run})
}

// madeObject records a created object of a collection.
func (r *restorer) madeObject(collection, id string) {
	r.made(collection+" "+id, func(ctx context.Context) error { return remove(ctx, r.c, collection, id) })
}

// rollback removes everything made, the newest first; it returns what
// could not be removed.
func (r *restorer) rollback(ctx context.Context) error {
	var errs []error
	for i := len(r.undo) - 1; i >= 0; i-- {
		if err := r.undo[i].run(ctx); err != nil {
			errs = append(errs, err)
		}
	}
	r.undo = nil
	return errors.Join(errs...)
}

// run recreates the topology in the Python plugin's order: networks,
// security groups, subnets, routers, ports, router interfaces.
func (r *restorer) run(ctx context.Context) error {
	for _, step := range []func(context.Context) error{r.networks, r.securityGroups, r.subnetsStep, r.routersStep, r.portsStep, r.interfaces} {
		if err := step(ctx); err != nil {
			return err
		}
	}
	return nil
}

// restoredNetwork tells whether a saved network is restored: it is saved
// and not external (external networks are the operator's, and remain).
func (r *restorer) restoredNetwork(id string) bool {
	i := slices.IndexFunc(r.nets, func(n savedNetwork) bool { return n.ID == id })
	return i >= 0 && (r.nets[i].External == nil || !*r.nets[i].External)
}

// settle waits for what create answered unsettled.
func (r *restorer) settle(ctx context.Context, collection, key, id, status string) error {
	if slices.Contains(settled, status) {
		return nil
	}
	return waitSettled(ctx, r.c, r.interval, collection, key, id)
}

func (r *restorer) networks(ctx context.Context) error {
	for _, n := range r.nets {
		if !r.restoredNetwork(n.ID) {
			continue
		}
		body := map[string]any{"name": n.Name}
		setBool(body, "admin_state_up", n.AdminStateUp)
		setBool(body, "port_security_enabled", n.PortSecurity)
		setBool(body, "shared", n.Shared)
		id, status, err := create(ctx, r.c, "networks", "network", body)
		if err != nil {
			return fmt.Errorf("network %s: %w", n.ID, err)
		}
		r.madeObject("networks", id)
		r.ids[n.ID] = id
		if err := r.settle(ctx, "networks", "network", id, status); err != nil {
			return err
		}
	}
	return nil
}

func setBool(body map[string]any, key string, v *bool) {
	if v != nil {
		body[key] = *v
	}
}

func (r *restorer) securityGroups(ctx context.Context) error {
	// Rules naming a group are remapped once every group exists.
	var made []savedGroup
	for _, g := range r.groups {
		if g.Name == "default" {
			continue // Neutron gives every project its own
		}
		id, _, err := create(ctx, r.c, "security-groups", "security_group", map[string]any{"name": g.Name, "description": g.Description})
		if err != nil {
			return fmt.Errorf("security group %s: %w", g.ID, err)
		}
		r.madeObject("security-groups", id)
		r.ids[g.ID] = id
		made = append(made, g)
	}
	for _, g := range made {
		if err := r.rules(ctx, g); err != nil {
			return err
		}
	}
	return nil
}

// ruleKey is what makes two rules the same rule.
func ruleKey(direction, ethertype string, protocol, lo, hi json.RawMessage, prefix, group, addressGroup *string) string {
	s := func(p *string) string {
		if p == nil {
			return "null"
		}
		return *p
	}
	raw := func(m json.RawMessage) string {
		if len(m) == 0 {
			return "null"
		}
		return string(m)
	}
	return strings.Join([]string{direction, ethertype, raw(protocol), raw(lo), raw(hi), s(prefix), s(group), s(addressGroup)}, "|")
}

// rules makes the new group's rules the saved ones: the rules Neutron
// gave the new group that were not saved (its default egress rules, when
// the saved group had other egress rules) go, the saved ones it lacks are
// made. A rule naming a remote group names that group's restored copy.
func (r *restorer) rules(ctx context.Context, g savedGroup) error {
	newID := r.ids[g.ID]
	want := map[string]map[string]any{}
	var order []string
	for _, rule := range g.Rules {
		group := rule.RemoteGroupID
		if group != nil {
			mapped, err := r.groupID(ctx, *group)
			if err != nil {
				return err
			}
			group = &mapped
		}
		k := ruleKey(rule.Direction, rule.Ethertype, rule.Protocol, rule.PortRangeMin, rule.PortRangeMax, rule.RemoteIPPrefix, group, rule.RemoteAddressGroupID)
		if _, dup := want[k]; dup {
			continue
		}
		body := map[string]any{"security_group_id": newID, "direction": rule.Direction, "ethertype": rule.Ethertype}
		for key, v := range map[string]json.RawMessage{"protocol": rule.Protocol, "port_range_min": rule.PortRangeMin, "port_range_max": rule.PortRangeMax} {
			if len(v) > 0 && string(v) != "null" {
				body[key] = v
			}
		}
		if rule.RemoteIPPrefix != nil {
			body["remote_ip_prefix"] = *rule.RemoteIPPrefix
		}
		if group != nil {
			body["remote_group_id"] = *group
		}
		if rule.RemoteAddressGroupID != nil {
			body["remote_address_group_id"] = *rule.RemoteAddressGroupID
		}
		want[k] = body
		order = append(order, k)
	}
	var now savedGroup
	if err := show(ctx, r.c, "security-groups", "security_group", newID, &now); err != nil {
		return fmt.Errorf("security group %s: %w", newID, err)
	}
	have := map[string]bool{}
	for _, rule := range now.Rules {
		k := ruleKey(rule.Direction, rule.Ethertype, rule.Protocol, rule.PortRangeMin, rule.PortRangeMax, rule.RemoteIPPrefix, rule.RemoteGroupID, rule.RemoteAddressGroupID)
		if _, ok := want[k]; ok {
			have[k] = true
			continue
		}
		if err := remove(ctx, r.c, "security-group-rules", rule.ID); err != nil {
			return fmt.Errorf("security group %s: %w", newID, err)
		}
	}
	for _, k := range order {
		if have[k] {
			continue
		}
		// The rule goes with its group; a duplicate Neutron refuses
		// (409) is already there.
		if _, _, err := create(ctx, r.c, "security-group-rules", "security_group_rule", want[k]); err != nil && !gophercloud.ResponseCodeIs(err, 409) {
			return fmt.Errorf("security group %s: %w", newID, err)
		}
	}
	return nil
}

// groupID is the id a port or rule of the restored topology names for the
// saved group orig: its restored copy; for the saved default group, the
// project's default group; otherwise orig itself (a group the topology did
// not hold).
func (r *restorer) groupID(ctx context.Context, orig string) (string, error) {
	if id, ok := r.ids[orig]; ok {
		return id, nil
	}
	if !slices.ContainsFunc(r.groups, func(g savedGroup) bool { return g.ID == orig && g.Name == "default" }) {
		return orig, nil
	}
	if r.defaultGroup != "" {
		return r.defaultGroup, nil
	}
	var resp struct {
		Groups []struct {
			ID string `json:"id"`
		} `json:"security_groups"`
	}
	u := r.c.ServiceURL("security-groups") + "?name=default&project_id=" + r.project
	if _, err := r.c.Get(ctx, u, &resp, nil); err != nil {
		return "", fmt.Errorf("the project's default security group: %w", err)
	}
	if len(resp.Groups) == 0 {
		return "", fmt.Errorf("the project %s has no default security group", r.project)
	}
	r.defaultGroup = resp.Groups[0].ID
	return r.defaultGroup, nil
}

func (r *restorer) subnetsStep(ctx context.Context) error {
	for _, s := range r.subnets {
		if !r.restoredNetwork(s.NetworkID) {
			continue
		}
		body := map[string]any{
			"cidr": s.CIDR, "name": s.Name, "network_id": r.ids[s.NetworkID],
			"ip_version": s.IPVersion, "enable_dhcp": s.EnableDHCP, "allocation_pools": s.AllocationPools,
			"dns_nameservers": s.DNSNameservers, "host_routes": s.HostRoutes, "tenant_id": s.TenantID,
		}
		for k, v := range body {
			if raw, ok := v.(json.RawMessage); ok && len(raw) == 0 {
				delete(body, k)
			}
		}
		// An empty gateway is none.
		if s.GatewayIP == nil || *s.GatewayIP == "" {
			body["gateway_ip"] = nil
		} else {
			body["gateway_ip"] = *s.GatewayIP
		}
		id, _, err := create(ctx, r.c, "subnets", "subnet", body)
		if err != nil {
			return fmt.Errorf("subnet %s: %w", s.ID, err)
		}
		r.madeObject("subnets", id)
		r.ids[s.ID] = id
	}
	return nil
}

func (r *restorer) routersStep(ctx context.Context) error {
	for _, rt := range r.routers {
		body := map[string]any{"name": rt.Name}
		setBool(body, "admin_state_up", rt.AdminStateUp)
		if rt.Gateway != nil {
			ext := rt.Gateway.NetworkID
			if r.gateway != "" {
				ext = r.gateway
			}
			body["external_gateway_info"] = map[string]any{"network_id": ext}
		}
		id, status, err := create(ctx, r.c, "routers", "router", body)
		if err != nil {
			return fmt.Errorf("router %s: %w", rt.ID, err)
		}
		r.madeObject("routers", id)
		r.ids[rt.ID] = id
		if err := r.settle(ctx, "routers", "router", id, status); err != nil {
			return err
		}
	}
	return nil
}

func (r *restorer) portsStep(ctx context.Context) error {
	for _, p := range r.ports {
		if !r.restoredNetwork(p.NetworkID) || slices.Contains(ownedByNeutron, p.DeviceOwner) {
			continue
		}
		body := map[string]any{"name": p.Name, "network_id": r.ids[p.NetworkID], "device_id": p.DeviceID,
			"device_owner": p.DeviceOwner}
		if p.MACAddress != "" {
			body["mac_address"] = p.MACAddress
		}
		setBool(body, "admin_state_up", p.AdminStateUp)
		setBool(body, "port_security_enabled", p.PortSecurity)
		var ips []map[string]any
		for _, ip := range p.FixedIPs {
			if sub, ok := r.ids[ip.SubnetID]; ok {
				ips = append(ips, map[string]any{"ip_address": ip.IPAddress, "subnet_id": sub})
			}
		}
		if len(ips) > 0 {
			body["fixed_ips"] = ips
		}
		pairs := []map[string]any{}
		for _, pair := range p.AllowedAddressPairs {
			c := map[string]any{}
			for k, v := range pair {
				if k != "mac_address" || v != nil {
					c[k] = v
				}
			}
			pairs = append(pairs, c)
		}
		body["allowed_address_pairs"] = pairs
		// A port saved in no group stays in none (left out, Neutron
		// would put it in the default group).
		if p.SecurityGroups != nil {
			sgs := []string{}
			for _, g := range p.SecurityGroups {
				id, err := r.groupID(ctx, g)
				if err != nil {
					return fmt.Errorf("port %s: %w", p.ID, err)
				}
				sgs = append(sgs, id)
			}
			body["security_groups"] = sgs
		}
		id, status, err := create(ctx, r.c, "ports", "port", body)
		if err != nil {
			return fmt.Errorf("port %s: %w", p.ID, err)
		}
		r.madeObject("ports", id)
		r.ids[p.ID] = id
		if err := r.settle(ctx, "ports", "port", id, status); err != nil {
			return err
		}
	}
	return nil
}

// interfaces re-adds each saved router interface: the restored router's
// interface on the restored subnet of the interface's first address.
func (r *restorer) interfaces(ctx context.Context) error {
	for _, p := range r.ports {
		if p.DeviceOwner != ownerRouterInterface || len(p.FixedIPs) == 0 {
			continue
		}
		router, ok := r.ids[p.DeviceID]
		if !ok {
			continue // not a router of the topology
		}
		subnet, ok := r.ids[p.FixedIPs[0].SubnetID]
		if !ok {
			continue
		}
		if err := routerInterface(ctx, r.c, router, subnet, true); err != nil {
			return err
		}
		r.made("interface of router "+router+" on subnet "+subnet, func(ctx context.Context) error {
			return routerInterface(ctx, r.c, router, subnet, false)
		})
	}
	return nil
}

// restore recreates the saved topology in the caller's project. The
// topology's result is reported restoring, then available or error with
// the reason; every restored object's new id is recorded under its
// original id. A failed restore removes what it made.
func (p *Plugin) restore(ctx context.Context, a *providers.HookArgs) error {
	id := a.Resource.ID
	a.Report(ctx, karbor.ResourceStatusRestoring, "")
	failed := func(why string) error {
		a.Report(ctx, karbor.ResourceStatusError, why)
		return karbor.RestoreResourceFailed(exceptionName, why, id, karbor.NetworkResourceType)
	}
	sec, err := a.Checkpoint.ResourceSection(id)
	var md metadata
	if err == nil {
		err = sec.GetJSON(ctx, "metadata", &md)
	}
	if err != nil {
		return failed("Error reading the network topology: " + reason(err))
	}
	r, err := newRestorer(nil, p.interval, a.Request.ProjectID, a.Parameters, &md)
	if err != nil {
		return failed(err.Error())
	}
	if r.c, err = p.client(ctx, a.Request); err != nil {
		return failed(reason(err))
	}
	if err := r.run(ctx); err != nil {
		why := reason(err)
		dctx, cancel := detached(ctx)
		defer cancel()
		if cerr := r.rollback(dctx); cerr != nil {
			warn(ctx, cerr, "Failed removing what the failed network restore made")
			why += "; and what the restore made could not all be removed: " + reason(cerr)
		}
		return failed(why)
	}
	for orig, made := range r.ids {
		a.NewResources.Set(orig, made)
	}
	a.Report(ctx, karbor.ResourceStatusAvailable, "")
	return nil
}
