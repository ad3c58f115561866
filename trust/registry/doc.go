// Package registry is the Trusted System's durable state in a bbolt file:
// principals (nodes, caregivers, gateways) with their pre-shared secrets and
// status, caregivers' access lists, and the payload keys the TS has issued
// with their epochs and expiry. Every change is one bbolt transaction,
// fsynced before the call returns, so nothing acknowledged is lost across a
// kill -9. The file is created with mode 0600: it holds every secret.
package registry
