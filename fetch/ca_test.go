package fetch

import (
	"bytes"
	"encoding/pem"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestLoadCAs(t *testing.T) {
	srv := httptest.NewTLSServer(nil)
	srv.Close()
	c := srv.Certificate()
	dir := t.TempDir()
	one := writeCertPEM(t, dir, "one.pem", c)
	write := func(name, body string) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(body), 0o600); err != nil {
			t.Fatal(err)
		}
		return p
	}
	certPEM := string(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: c.Raw}))
	// OpenSSL's -trustout form: the certificate followed by trust settings.
	trusted := string(pem.EncodeToMemory(&pem.Block{Type: "TRUSTED CERTIFICATE", Bytes: append(append([]byte(nil), c.Raw...), 0x30, 0x03, 0x02, 0x01, 0x00)}))
	crl := string(pem.EncodeToMemory(&pem.Block{Type: "X509 CRL", Bytes: []byte{0x30, 0x00}}))
	bundle := write("bundle.pem", "# corp roots\n"+certPEM+crl+trusted)
	keyOnly := write("key.pem", string(pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: []byte{1}})))
	der := write("ca.der", string(c.Raw))
	empty := write("empty.pem", "")
	broken := write("broken.pem", string(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: []byte("nope")})))

	for _, tc := range []struct {
		name    string
		env     []string
		pool    bool
		source  string // prefix
		err     string // prefix; "" = no error
		errMore string
	}{
		{"none", nil, false, SystemRootsSource, "", ""},
		{"codex var", []string{"CODEX_CA_CERTIFICATE", one}, true, "CODEX_CA_CERTIFICATE=" + one + " (1 certificate, added to the system roots)", "", ""},
		{"codex wins", []string{"CODEX_CA_CERTIFICATE", one, "SSL_CERT_FILE", bundle}, true, "CODEX_CA_CERTIFICATE=" + one, "", ""},
		{"ssl_cert_file", []string{"SSL_CERT_FILE", bundle}, true, "SSL_CERT_FILE=" + bundle + " (2 certificates", "", ""},
		{"empty codex var is unset", []string{"CODEX_CA_CERTIFICATE", "", "SSL_CERT_FILE", one}, true, "SSL_CERT_FILE=" + one, "", ""},
		{"missing", []string{"CODEX_CA_CERTIFICATE", filepath.Join(dir, "nope.pem")}, false, "system roots (CODEX_CA_CERTIFICATE=", "Failed to read CA certificate file " + filepath.Join(dir, "nope.pem") + " selected by CODEX_CA_CERTIFICATE: ", "or unset it to use system roots"},
		{"empty file", []string{"SSL_CERT_FILE", empty}, false, "system roots", "Failed to load CA certificates from " + empty + " selected by SSL_CERT_FILE: no certificates found in PEM file.", ""},
		{"key only", []string{"CODEX_CA_CERTIFICATE", keyOnly}, false, "system roots", "Failed to load CA certificates from " + keyOnly + " selected by CODEX_CA_CERTIFICATE: no certificates found in PEM file (it holds other PEM blocks", ""},
		{"DER", []string{"CODEX_CA_CERTIFICATE", der}, false, "system roots", "Failed to load CA certificates from " + der, "openssl x509 -inform der"},
		{"broken cert", []string{"CODEX_CA_CERTIFICATE", broken}, false, "system roots", "Failed to load CA certificates from " + broken + " selected by CODEX_CA_CERTIFICATE: certificate #1 does not parse", ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			pool, source, err := LoadCAs(envOf(tc.env...))
			if (pool != nil) != tc.pool || !strings.HasPrefix(source, tc.source) {
				t.Fatalf("pool %v source %q", pool != nil, source)
			}
			switch {
			case tc.err == "" && err != nil:
				t.Fatalf("err %v", err)
			case tc.err != "" && (err == nil || !strings.HasPrefix(err.Error(), tc.err) || !strings.Contains(err.Error(), tc.errMore)):
				t.Fatalf("err %v, want %q…%q", err, tc.err, tc.errMore)
			}
		})
	}
}

func TestFirstDER(t *testing.T) {
	for _, tc := range []struct{ in, want []byte }{
		{[]byte{0x30, 0x02, 1, 2, 9, 9}, []byte{0x30, 0x02, 1, 2}},
		{append([]byte{0x30, 0x81, 0x03, 1, 2, 3}, 7), []byte{0x30, 0x81, 0x03, 1, 2, 3}},
		{[]byte{0x30, 0x05, 1}, []byte{0x30, 0x05, 1}}, // length past the end: kept as is
		{[]byte{0x30}, []byte{0x30}},
	} {
		if got := firstDER(tc.in); !bytes.Equal(got, tc.want) {
			t.Errorf("firstDER(%x) = %x, want %x", tc.in, got, tc.want)
		}
	}
}
