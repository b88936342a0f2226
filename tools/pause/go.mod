// The pod sandbox's pause process of `make cluster` (containerd's sandbox_image):
// no registry here serves registry.k8s.io/pause.
module eda-shop/tools/pause

go 1.26.0
