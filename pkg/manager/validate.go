package manager

import (
	"encoding/json"
	"strings"

	"github.com/gokarbor/karbor-protection/pkg/karbor"
	"github.com/gokarbor/karbor-protection/pkg/python"
	"github.com/gokarbor/karbor-protection/providers"
)

// Messages of the Python manager's parameter validation.
const (
	reasonNotUUID           = "The resource_id must be a uuid."
	reasonBadRestoreKey     = "The key of restore parameters is invalid."
	reasonBadRestoreProp    = "The restore property of restore parameters is invalid."
	reasonNoVerifySchema    = "The verify schema of plugin must be provided."
	reasonUnpackTooManyHash = "too many values to unpack (expected 2)"
)

// objectParameters returns the parameters of a Restore or Verification
// primitive as the members of the JSON object, in the order the Python
// manager iterates them (which decides which bad key it reports first).
// Absent or null parameters give no members.
func objectParameters(primitive json.RawMessage) ([]python.Member, json.RawMessage, error) {
	top, err := python.Members(primitive)
	if err != nil {
		return nil, nil, err
	}
	data, err := python.Members(get(top, karbor.ObjectSerialNamespace+".data"))
	if err != nil {
		return nil, nil, err
	}
	raw := get(data, "parameters")
	if !python.TruthJSON(raw) {
		return nil, raw, nil
	}
	ps, err := python.Members(raw)
	return ps, raw, err
}

// validateRestoreParameters is the Python manager's
// validate_restore_parameters: nothing to check without parameters; else
// every key must be a resource type, or "<type>#<uuid>", that the provider's
// restore_schema knows, and name only properties its schema declares.
// A schema without "properties" (the noop plugin's {}) fails with
// KeyError('properties'), and a key with two "#" with the ValueError of
// Python's tuple unpacking, exactly as in Python.
func validateRestoreParameters(params []python.Member, schema providers.SchemaMap) error {
	for _, p := range params {
		resourceType := p.Key
		if strings.Contains(p.Key, "#") {
			parts := strings.Split(p.Key, "#")
			if len(parts) != 2 {
				return karbor.ValueError(reasonUnpackTooManyHash)
			}
			if !isUUIDLike(parts[1]) {
				return karbor.InvalidInput(reasonNotUUID)
			}
			resourceType = parts[0]
		}
		typeSchema, known := schema.Get(resourceType)
		if !karbor.IsResourceType(resourceType) || !known {
			return karbor.InvalidInput(reasonBadRestoreKey)
		}
		schemaMembers, err := python.Members(typeSchema)
		if err != nil {
			return karbor.TypeError("restore schema of " + resourceType + " is not a dict")
		}
		props := get(schemaMembers, "properties")
		if props == nil {
			return karbor.KeyError("properties")
		}
		given, err := python.Members(p.Value)
		if err != nil {
			return noAttribute(p.Value, "keys")
		}
		declared, err := python.Members(props)
		if err != nil {
			return noAttribute(props, "keys")
		}
		for _, g := range given {
			if get(declared, g.Key) == nil {
				return karbor.InvalidInput(reasonBadRestoreProp)
			}
		}
	}
	return nil
}

// validateRestore checks a restore's parameters against its provider's
// restore schema (validateRestoreParameters).
func validateRestore(params []python.Member, p *providers.Provider) error {
	return validateRestoreParameters(params, p.ExtendedInfoSchema().Restore)
}

// validateVerifyParameters is the Python manager's
// validate_verify_parameters: providers publish no verify_schema, so any
// parameters at all fail.
func validateVerifyParameters(params []python.Member, _ *providers.Provider) error {
	if len(params) > 0 {
		return karbor.InvalidInput(reasonNoVerifySchema)
	}
	return nil
}

// isUUIDLike is oslo_utils.uuidutils.is_uuid_like: after dropping "urn:",
// "uuid:", surrounding braces and dashes, 32 hexadecimal digits in any case.
func isUUIDLike(s string) bool {
	s = strings.ReplaceAll(s, "urn:", "")
	s = strings.ReplaceAll(s, "uuid:", "")
	s = strings.Trim(s, "{}")
	s = strings.ReplaceAll(s, "-", "")
	if len(s) != 32 {
		return false
	}
	for _, c := range s {
		if !strings.ContainsRune("0123456789abcdefABCDEF", c) {
			return false
		}
	}
	return true
}
