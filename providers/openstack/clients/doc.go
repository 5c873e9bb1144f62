// Package clients builds, per request, the OpenStack service clients that
// karbor's protectable and protection plugins use (Python's
// karbor/services/protection/client_factory.py and clients/*.py), on
// gophercloud.
//
// Each client acts as the caller: the request context's auth token goes in
// X-Auth-Token, and a token of karbor's own service user (karbor.conf's
// [trustee]) in X-Service-Token, as keystoneauth's ServiceTokenAuthWrapper
// sends them. The endpoint is, first that gives one:
//
//  1. [<svc>_client] <svc>_endpoint, with "/<project_id>" appended for
//     cinder and nova;
//  2. the request context's (v2-shaped) service catalog, matched on the type
//     of [<svc>_client] <svc>_catalog_info ("volumev3:cinderv3:publicURL");
//  3. Keystone's endpoint list, read as the trustee, by [<svc>_client]
//     service_name, service_type, region_id and interface.
//
// Cinder is spoken at microversion 3.43 and Nova at its base 2.1, as
// karbor's cinderclient and novaclient do. Every request is given up after a
// timeout without progress (a long image transfer that keeps moving is not),
// [<svc>_client] <svc>_ca_cert_file and <svc>_auth_insecure set TLS, and a
// refused or expired caller token is a *TokenError, never a retry loop.
package clients
