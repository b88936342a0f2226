// Command sidecar-injector applies the sidecar injector of the pinned Dapr to one Pod:
// the Pod as JSON on stdin, the Pod as the injector would let it through on stdout.
// Its flags are the values of the Dapr Helm chart's injector that shape the sidecar,
// under the chart's own names, so tests/k8s can put the pods that a control plane
// installed as docs/kubernetes.md says would run before a real API server. It contacts nothing.
package main

import (
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"os"
	"runtime/debug"

	jsonpatch "github.com/evanphx/json-patch/v5"
	corev1 "k8s.io/api/core/v1"

	injectorConsts "github.com/dapr/dapr/pkg/injector/consts"
	"github.com/dapr/dapr/pkg/injector/patcher"
)

// The Helm chart's defaults (charts/dapr/charts/dapr_sidecar_injector/values.yaml).
var (
	runAsNonRoot     = flag.Bool("sidecarRunAsNonRoot", true, "")
	readOnlyRootFS   = flag.Bool("sidecarReadOnlyRootFilesystem", true, "")
	dropCapabilities = flag.Bool("sidecarDropALLCapabilities", false, "")
	nativeSidecar    = flag.Bool("nativeSidecar", false, "")
	pullPolicy       = flag.String("sidecarImagePullPolicy", "IfNotPresent", "")
	version          = flag.Bool("version", false, "print the Dapr version and exit")
)

func main() {
	flag.Parse()
	if *version {
		fmt.Println(daprVersion())
		return
	}
	if err := inject(os.Stdin, os.Stdout); err != nil {
		fmt.Fprintln(os.Stderr, "sidecar-injector:", err)
		os.Exit(1)
	}
}

func inject(in io.Reader, out io.Writer) error {
	raw, err := io.ReadAll(in)
	if err != nil {
		return err
	}
	var pod corev1.Pod
	if err = json.Unmarshal(raw, &pod); err != nil {
		return err
	}
	// What the injector sets before it reads the pod's annotations, as far as it shapes
	// the pod; the trust anchors and addresses it looks up in the cluster do not.
	sidecar := patcher.NewSidecarConfig(&pod)
	sidecar.Mode = injectorConsts.ModeKubernetes
	sidecar.Namespace = pod.Namespace
	sidecar.Identity = pod.Namespace + ":" + pod.Spec.ServiceAccountName
	sidecar.MTLSEnabled = true
	sidecar.ControlPlaneNamespace = "dapr-system"
	sidecar.SidecarImage = "ghcr.io/dapr/daprd:" + daprVersion()
	sidecar.ImagePullPolicy = corev1.PullPolicy(*pullPolicy)
	sidecar.RunAsNonRoot = *runAsNonRoot
	sidecar.ReadOnlyRootFilesystem = *readOnlyRootFS
	sidecar.SidecarDropALLCapabilities = *dropCapabilities
	sidecar.EnableNativeSidecar = *nativeSidecar
	sidecar.SetFromPodAnnotations()
	patch, err := sidecar.GetPatch()
	if err != nil {
		return err
	}
	ops, err := json.Marshal(patch)
	if err != nil {
		return err
	}
	decoded, err := jsonpatch.DecodePatch(ops)
	if err != nil {
		return err
	}
	patched, err := decoded.Apply(raw)
	if err != nil {
		return err
	}
	_, err = out.Write(patched)
	return err
}

// daprVersion is the version of github.com/dapr/dapr this was built with, without its v.
func daprVersion() string {
	if info, ok := debug.ReadBuildInfo(); ok {
		for _, dep := range info.Deps {
			if dep.Path == "github.com/dapr/dapr" {
				return dep.Version[1:]
			}
		}
	}
	return "unknown"
}
