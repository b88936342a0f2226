// refusedcalls checks the daprd that tools/setup.sh builds for the race that
// patches/app-channel-pipeline.patch fixes: it calls a closed port through the app
// channel from many goroutines at once, and fails if any call passes for a success.
// Built and run by tools/setup.sh against the patched source, after daprd.
package main

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"os"
	"sync"
	"sync/atomic"

	channelhttp "github.com/dapr/dapr/pkg/channel/http"
	"github.com/dapr/dapr/pkg/config"
	invokev1 "github.com/dapr/dapr/pkg/messaging/v1"
	middlewarehttp "github.com/dapr/dapr/pkg/middleware/http"
)

const (
	goroutines = 32
	callsEach  = 2000 // without the patch about one call in a thousand passed
)

func main() {
	port, err := closedPort()
	if err != nil {
		fail(err)
	}
	channel, err := channelhttp.CreateHTTPChannel(channelhttp.ChannelConfiguration{
		Client:      &http.Client{},
		Endpoint:    fmt.Sprintf("http://127.0.0.1:%d", port),
		Middleware:  middlewarehttp.New().BuildPipelineFromSpec("app", &config.PipelineSpec{}),
		TracingSpec: &config.TracingSpec{},
	})
	if err != nil {
		fail(err)
	}
	var passed atomic.Int64
	var wg sync.WaitGroup
	for range goroutines {
		wg.Go(func() {
			for range callsEach {
				request := invokev1.NewInvokeMethodRequest("events/x").WithHTTPExtension(http.MethodPost, "")
				response, err := channel.InvokeMethod(context.Background(), request, "")
				request.Close()
				if err == nil {
					passed.Add(1)
					response.Close()
				}
			}
		})
	}
	wg.Wait()
	if passed.Load() > 0 {
		fail(fmt.Errorf("%d of %d calls to a closed port passed for a success", passed.Load(), goroutines*callsEach))
	}
	fmt.Printf("    the app channel: none of %d calls to a closed port passed for a success\n", goroutines*callsEach)
}

// closedPort is a loopback port that nothing listens on: one just let go.
func closedPort() (int, error) {
	listener, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer listener.Close()
	return listener.Addr().(*net.TCPAddr).Port, nil
}

func fail(err error) {
	fmt.Fprintln(os.Stderr, "refusedcalls:", err)
	os.Exit(1)
}
