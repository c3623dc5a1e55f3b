// Command backend is the loopback server of reqdoctor's benchmarks: it
// answers Codex's bundle endpoint with a fixed valid policy, at once, after
// a fixed delay, or never. It listens on 127.0.0.1 only and prints its
// chatgpt_base_url as the first line of stdout.
//
//	go run ./bench/backend -delay 200ms
package main

import (
	"context"
	"flag"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/reqdoctor/reqdoctor/bench/benchdata"
)

func main() {
	port := flag.Int("port", 0, "loopback `PORT` to listen on (0: a free one)")
	delay := flag.Duration("delay", 0, "hold every answer back this long")
	hang := flag.Bool("hang", false, "never answer (until the client goes away)")
	servers := flag.Int("servers", 1, "MCP servers in the policy")
	fragments := flag.Int("fragments", 1, "requirements fragments in the bundle")
	lifetime := flag.Duration("lifetime", 15*time.Minute, "exit after this long, so a forgotten backend does not linger")
	flag.Parse()
	if *fragments < 1 || *servers < *fragments {
		fmt.Fprintln(os.Stderr, "backend: need 1 ≤ fragments ≤ servers")
		os.Exit(2)
	}

	body := benchdata.BundleBody(benchdata.Fragments(*fragments, *servers))
	ln, err := net.Listen("tcp", fmt.Sprintf("127.0.0.1:%d", *port))
	if err != nil {
		fmt.Fprintf(os.Stderr, "backend: listen on 127.0.0.1: %v\n", err)
		os.Exit(1)
	}
	mux := http.NewServeMux()
	serve := func(w http.ResponseWriter, r *http.Request) {
		if *hang {
			<-r.Context().Done()
			return
		}
		if *delay > 0 {
			t := time.NewTimer(*delay)
			defer t.Stop()
			select {
			case <-t.C:
			case <-r.Context().Done():
				return
			}
		}
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write(body)
	}
	mux.HandleFunc("GET /backend-api/wham/config/bundle", serve)
	mux.HandleFunc("GET /api/codex/config/bundle", serve)
	srv := &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second}

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	ctx, cancel := context.WithTimeout(ctx, *lifetime)
	defer cancel()
	go func() {
		<-ctx.Done()
		_ = srv.Close() // Close, not Shutdown: hanging handlers end with their connections
	}()
	fmt.Printf("http://%s/backend-api/\n", ln.Addr())
	if err := srv.Serve(ln); err != nil && err != http.ErrServerClosed {
		fmt.Fprintf(os.Stderr, "backend: %v\n", err)
		os.Exit(1)
	}
}
