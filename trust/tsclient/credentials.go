package tsclient

import (
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"

	"github.com/lsmqtt/lsmqtt/trust/keywrap"
)

// Credentials are what a principal needs to talk to the TS: its name, its
// pre-shared secret, and for a node its device number and group. They are
// written once by `lsmqtt ts register` and read by the node, gateway or
// caregiver tool.
type Credentials struct {
	Name   string `json:"name"`
	Kind   string `json:"kind"` // node, caregiver or gateway
	PSS    []byte `json:"-"`
	Sender uint16 `json:"sender,omitempty"`
	Group  string `json:"group,omitempty"`
	// TS is the Trusted System's UDP address, for tools that reach it directly.
	TS string `json:"ts,omitempty"`
}

type credFile struct {
	Credentials
	PSSHex string `json:"pss"`
}

// ErrCredentialMode is returned by LoadCredentials for a file that group or
// others may read or write: the PSS in it must be private.
var ErrCredentialMode = errors.New("tsclient: credential file must not be accessible by group or others (chmod 600)")

// SaveCredentials writes c to path with mode 0600. It refuses to overwrite
// an existing file unless overwrite is set.
func SaveCredentials(path string, c *Credentials, overwrite bool) error {
	if len(c.PSS) != keywrap.PSSLen {
		return keywrap.ErrPSS
	}
	flags := os.O_WRONLY | os.O_CREATE | os.O_TRUNC
	if !overwrite {
		flags |= os.O_EXCL
	}
	f, err := os.OpenFile(path, flags, 0o600)
	if err != nil {
		return err
	}
	if err := f.Chmod(0o600); err != nil { // an existing file keeps its mode otherwise
		f.Close()
		return err
	}
	b, err := json.MarshalIndent(credFile{Credentials: *c, PSSHex: hex.EncodeToString(c.PSS)}, "", "  ")
	if err != nil {
		f.Close()
		return err
	}
	_, err = f.Write(append(b, '\n'))
	clear(b)
	if err2 := f.Sync(); err == nil {
		err = err2
	}
	if err2 := f.Close(); err == nil {
		err = err2
	}
	return err
}

// LoadCredentials reads a credential file, refusing one readable by group
// or others.
func LoadCredentials(path string) (*Credentials, error) {
	fi, err := os.Stat(path)
	if err != nil {
		return nil, err
	}
	if fi.Mode().Perm()&0o077 != 0 {
		return nil, &fs.PathError{Op: "load credentials", Path: path, Err: ErrCredentialMode}
	}
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	defer clear(b)
	var cf credFile
	if err := json.Unmarshal(b, &cf); err != nil {
		return nil, fmt.Errorf("tsclient: %s: %w", path, err)
	}
	pss, err := hex.DecodeString(cf.PSSHex)
	if err != nil || len(pss) != keywrap.PSSLen {
		return nil, fmt.Errorf("tsclient: %s: pss must be 32 hex digits", path)
	}
	c := cf.Credentials
	c.PSS = pss
	return &c, nil
}

// Wipe zeroes the PSS.
func (c *Credentials) Wipe() { clear(c.PSS) }
