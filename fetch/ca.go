package fetch

import (
	"bytes"
	"crypto/x509"
	"encoding/pem"
	"fmt"
	"os"
	"strings"
)

// The variables Codex reads for extra root certificates, in order.
const (
	EnvCodexCA     = "CODEX_CA_CERTIFICATE"
	EnvSSLCertFile = "SSL_CERT_FILE"
)

// caHint is Codex's own advice after a bad CA file.
const caHint = "If you set CODEX_CA_CERTIFICATE or SSL_CERT_FILE, ensure it points to a PEM file containing one or more CERTIFICATE blocks, or unset it to use system roots."

// SystemRootsSource is LoadCAs's source when no CA variable is set.
const SystemRootsSource = "system roots (CODEX_CA_CERTIFICATE and SSL_CERT_FILE not set)"

// LoadCAs loads the root certificates Codex trusts: the PEM bundle named
// by CODEX_CA_CERTIFICATE or else SSL_CERT_FILE (an empty value counts as
// unset), ADDED to the system roots, as Codex does (reqwest's
// add_root_certificate). With neither set, pool is nil, meaning the
// system roots. source says which was used.
//
// A file that cannot be read or holds no certificate gives an error
// naming the variable and the path, with pool nil: Codex then logs a
// warning and builds its HTTP client without the custom roots, so the
// fetch goes on with the system roots.
//
// As in Codex, OpenSSL's "TRUSTED CERTIFICATE" blocks are accepted and
// CRLs and other blocks are skipped. Note that Go's system roots on Linux
// are themselves read from SSL_CERT_FILE when it is set.
func LoadCAs(getenv func(string) string) (pool *x509.CertPool, source string, err error) {
	return loadCAs(getenv, true)
}

// loadCAs is LoadCAs; without system it checks the file Codex would load
// but builds no pool (x509.SystemCertPool alone costs ~20 ms).
func loadCAs(getenv func(string) string, system bool) (pool *x509.CertPool, source string, err error) {
	if getenv == nil {
		getenv = os.Getenv
	}
	env, path := EnvCodexCA, getenv(EnvCodexCA)
	if path == "" {
		env, path = EnvSSLCertFile, getenv(EnvSSLCertFile)
	}
	if path == "" {
		return nil, SystemRootsSource, nil
	}
	shown := Sanitize(path, 300)
	fallback := fmt.Sprintf("system roots (%s=%s could not be used)", env, shown)
	data, rerr := os.ReadFile(path)
	if rerr != nil {
		return nil, fallback, fmt.Errorf("Failed to read CA certificate file %s selected by %s: %s. %s", shown, env, Sanitize(rerr.Error(), 300), caHint)
	}
	certs, perr := parseCABundle(data)
	if perr != "" {
		return nil, fallback, fmt.Errorf("Failed to load CA certificates from %s selected by %s: %s. %s", shown, env, perr, caHint)
	}
	plural := "s"
	if len(certs) == 1 {
		plural = ""
	}
	source = fmt.Sprintf("%s=%s (%d certificate%s, added to the system roots)", env, shown, len(certs), plural)
	if !system {
		return nil, source, nil
	}
	pool, serr := x509.SystemCertPool()
	if serr != nil || pool == nil {
		pool = x509.NewCertPool()
	}
	for _, c := range certs {
		pool.AddCert(c)
	}
	return pool, source, nil
}

// parseCABundle reads every certificate of a PEM bundle; a non-empty
// problem says why the bundle is unusable.
func parseCABundle(data []byte) ([]*x509.Certificate, string) {
	var certs []*x509.Certificate
	rest := data
	for n := 1; ; {
		var b *pem.Block
		b, rest = pem.Decode(rest)
		if b == nil {
			break
		}
		switch b.Type {
		case "CERTIFICATE", "TRUSTED CERTIFICATE":
			der := b.Bytes
			if b.Type == "TRUSTED CERTIFICATE" {
				// OpenSSL appends trust settings after the certificate.
				der = firstDER(der)
			}
			c, err := x509.ParseCertificate(der)
			if err != nil {
				return nil, fmt.Sprintf("certificate #%d does not parse: %s", n, Sanitize(err.Error(), 200))
			}
			certs = append(certs, c)
			n++
		}
	}
	if len(certs) == 0 {
		if bytes.Contains(data, []byte("-----BEGIN")) && !bytes.Contains(data, []byte("CERTIFICATE-----")) {
			return nil, "no certificates found in PEM file (it holds other PEM blocks, e.g. a key)"
		}
		if strings.TrimSpace(string(data)) != "" && !bytes.Contains(data, []byte("-----BEGIN")) {
			return nil, "no certificates found in PEM file (it is not PEM; a DER file must be converted: openssl x509 -inform der -in FILE -out FILE.pem)"
		}
		return nil, "no certificates found in PEM file"
	}
	return certs, ""
}

// firstDER returns the first DER item of b (the certificate of an
// OpenSSL TRUSTED CERTIFICATE block), or b when its length is unreadable.
func firstDER(b []byte) []byte {
	if len(b) < 2 {
		return b
	}
	l := int(b[1])
	if l&0x80 == 0 {
		if 2+l <= len(b) {
			return b[:2+l]
		}
		return b
	}
	n := l & 0x7f
	if n == 0 || n > 4 || 2+n > len(b) {
		return b
	}
	size := 0
	for _, c := range b[2 : 2+n] {
		size = size<<8 | int(c)
	}
	if end := 2 + n + size; end <= len(b) && end > 0 {
		return b[:end]
	}
	return b
}
