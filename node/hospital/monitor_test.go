package hospital

import (
	"context"
	"net"
	"path/filepath"
	"testing"
	"time"

	"github.com/lsmqtt/lsmqtt/trust/monitor"
	"github.com/lsmqtt/lsmqtt/trust/tsclient"
)

// `lsmqtt monitor`'s path against a running sim: MQTT subscriptions on
// every area broker over TCP, keys from the TS over UDP with a caregiver
// credential file; it opens what the motes publish. Real time, loopback.
func TestMonitorOverMQTTReadsSim(t *testing.T) {
	sc := &Scenario{Seed: 4, AreaCount: 2, Patients: 2, Mobility: Mobility{Model: "static"}}
	sc.Duration.Duration = 5 * time.Minute // ended by the test once seen
	sc.PublishInterval.Duration = 200 * time.Millisecond
	credFile := filepath.Join(t.TempDir(), "monitor.cred")
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	type seen struct {
		patient string
		err     string
	}
	events := make(chan seen, 1024)
	srcDone := make(chan error, 1)
	started := func(s *Sim) {
		creds, err := tsclient.LoadCredentials(credFile)
		if err != nil {
			srcDone <- err
			cancel()
			return
		}
		ua, _ := net.ResolveUDPAddr("udp", creds.TS)
		tsc, err := tsclient.NewClient(tsclient.ClientConfig{TS: ua})
		if err != nil {
			srcDone <- err
			cancel()
			return
		}
		reader, err := tsclient.NewReader(tsclient.ReaderConfig{Creds: creds, Exchanger: tsc})
		creds.Wipe()
		if err != nil {
			tsc.Close()
			srcDone <- err
			cancel()
			return
		}
		mon := monitor.New(monitor.Config{Opener: reader, OnEvent: func(e monitor.Event) {
			select {
			case events <- seen{e.Patient, e.Error}:
			default:
			}
		}})
		var brokers []monitor.Broker
		for i, a := range s.BrokerAddrs() {
			brokers = append(brokers, monitor.Broker{URL: "mqtt://" + a, Label: s.AreaName(i)})
		}
		src := &monitor.MQTTSource{Brokers: brokers,
			Handle: func(ctx context.Context, area, topic string, p []byte) { _ = mon.Handle(ctx, area, topic, p) }}
		go func() {
			err := src.Run(ctx)
			reader.Close()
			tsc.Close()
			srcDone <- err
		}()
	}
	runDone := make(chan error, 1)
	go func() {
		_, err := Run(ctx, Config{Scenario: sc, BrokerTCP: []string{"127.0.0.1:0", "127.0.0.1:0"},
			TSAddr: "127.0.0.1:0", CaregiverFile: credFile, Started: started})
		runDone <- err
	}()
	opened := map[string]int{}
	for opened["p1"] < 3 || opened["p2"] < 3 {
		select {
		case e := <-events:
			if e.err != "" {
				t.Fatalf("monitor could not open a message of %s: %s", e.patient, e.err)
			}
			opened[e.patient]++
		case err := <-runDone:
			t.Fatalf("sim ended first: %v", err)
		case err := <-srcDone:
			t.Fatalf("monitor ended first: %v", err)
		}
	}
	cancel()
	if err := <-runDone; err != nil {
		t.Fatal(err)
	}
	if err := <-srcDone; err != nil {
		t.Fatal(err)
	}
}
