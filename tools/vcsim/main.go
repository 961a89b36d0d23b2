// Command vcsim serves govmomi's vCenter simulator (SOAP API and the vAPI REST API) for the vSphere connector tests.
//
// Debian's golang-github-vmware-govmomi-dev ships the simulator library but no vcsim program; this is the
// project's own minimal one. It prints the URL it listens on as one line on stdout and runs until SIGTERM/SIGINT.
package main

import (
	"crypto/tls"
	"flag"
	"fmt"
	"log"
	"net/url"
	"os"
	"os/signal"
	"syscall"

	"github.com/vmware/govmomi/simulator"
	_ "github.com/vmware/govmomi/vapi/simulator" // registers the content library / tagging REST endpoints
)

func main() {
	listen := flag.String("listen", "127.0.0.1:0", "address to serve on (port 0 picks a free port)")
	username := flag.String("username", "user", "the only user name accepted by SessionManager.Login")
	password := flag.String("password", "pass", "the only password accepted by SessionManager.Login")
	datacenters := flag.Int("dc", 1, "number of datacenters")
	clusters := flag.Int("cluster", 1, "clusters per datacenter")
	clusterHosts := flag.Int("host", 2, "hosts per cluster")
	standalone := flag.Int("standalone-host", 1, "standalone hosts per datacenter")
	machines := flag.Int("vm", 0, "virtual machines per host and resource pool (0: the tests create them)")
	flag.Parse()

	model := simulator.VPX()
	model.Datacenter = *datacenters
	model.Cluster = *clusters
	model.ClusterHost = *clusterHosts
	model.Host = *standalone
	model.Machine = *machines
	if err := model.Create(); err != nil {
		log.Fatalf("vcsim: cannot create the inventory: %v", err)
	}
	defer model.Remove()

	model.Service.Listen = &url.URL{Host: *listen, User: url.UserPassword(*username, *password)}
	model.Service.TLS = new(tls.Config)
	model.Service.RegisterEndpoints = true
	server := model.Service.NewServer()
	defer server.Close()

	shown := *server.URL
	shown.User = nil
	fmt.Println(shown.String())
	_ = os.Stdout.Sync()

	stop := make(chan os.Signal, 1)
	signal.Notify(stop, syscall.SIGTERM, syscall.SIGINT)
	<-stop
}
