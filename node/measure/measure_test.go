package measure_test

import (
	"context"
	"testing"
	"time"

	"go.uber.org/goleak"

	"github.com/lsmqtt/lsmqtt/node/energy"
	"github.com/lsmqtt/lsmqtt/node/eval"
	"github.com/lsmqtt/lsmqtt/node/measure"
	"github.com/lsmqtt/lsmqtt/node/mote"
	"github.com/lsmqtt/lsmqtt/node/profile"
	"github.com/lsmqtt/lsmqtt/node/sensors"
	"github.com/lsmqtt/lsmqtt/trust/envelope"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

func check(t *testing.T, p *profile.Profile, res []measure.Result, n int) {
	t.Helper()
	adLen := envelope.HeaderLen + len(mote.Topic("1", "1", mote.KindVitals))
	for _, r := range res {
		f := r.Figures
		t.Logf("%s: encrypt %.4f transmit %.4f receive %.4f decrypt %.4f mJ; setup pub %.3f sub %.3f mJ; transaction %.3f mJ; background %.4f mW; %v emulated",
			r.Scheme, f.Encrypt.EnergyMJ, f.Transmit.EnergyMJ, f.Receive.EnergyMJ, f.Decrypt.EnergyMJ,
			f.SetupPublisher.EnergyMJ, f.SetupSubscriber.EnergyMJ, f.TransactionMJ(), r.BackgroundPowerMW, r.EmulatedTime.Round(time.Second))
		if f.Origin != eval.Measured || len(r.PerTx) != n {
			t.Fatalf("%s: origin %s, %d transactions", r.Scheme, f.Origin, len(r.PerTx))
		}
		// One seal on the publisher and one open on the subscriber per
		// transaction, of a sensors record under the vitals topic.
		suite, _ := energy.ParseSuite(string(r.Scheme))
		want, _ := energy.CryptoCycles(p, suite, energy.Seal, sensors.RecordLen, adLen)
		if f.Encrypt.Cycles != want || f.Decrypt.Cycles != want {
			t.Errorf("%s: encrypt %d, decrypt %d cycles per transaction; one seal costs %d", r.Scheme, f.Encrypt.Cycles, f.Decrypt.Cycles, want)
		}
		// At least the PUBLISH and its link ACK, each way.
		if f.Transmit.FramesTX < 1 || f.Transmit.FramesRX < 1 || f.Receive.FramesRX < 1 || f.Receive.FramesTX < 1 ||
			f.Transmit.EnergyMJ <= 0 || f.Receive.EnergyMJ <= 0 {
			t.Errorf("%s: transmit %+v receive %+v", r.Scheme, f.Transmit, f.Receive)
		}
		if f.SetupPublisher.EnergyMJ <= f.Transmit.EnergyMJ || f.SessionTx != eval.DefaultSessionTx {
			t.Errorf("%s: setup %+v over %d", r.Scheme, f.SetupPublisher, f.SessionTx)
		}
		floor := float64(p.MAC.IdleListenPPM)/1e6*p.Currents.RX*p.VoltageV + p.Currents.LPM*p.VoltageV
		if r.BackgroundPowerMW < floor*0.999 {
			t.Errorf("%s: background %.4f mW below the idle floor %.4f mW", r.Scheme, r.BackgroundPowerMW, floor)
		}
	}
}

func TestMeasureOverMesh(t *testing.T) {
	p, _ := profile.Load("z1")
	const n = 8
	res, err := measure.Run(context.Background(), measure.Config{Profile: p, Transactions: n, Dir: t.TempDir(), Seed: 3})
	if err != nil {
		t.Fatal(err)
	}
	if len(res) != 3 {
		t.Fatalf("%d results", len(res))
	}
	check(t, p, res, n)
	xor, ascon := res[0].Figures, res[1].Figures
	if xor.Encrypt.EnergyMJ >= ascon.Encrypt.EnergyMJ {
		t.Errorf("paper-xor encrypt %.5f mJ not below ascon128 %.5f mJ", xor.Encrypt.EnergyMJ, ascon.Encrypt.EnergyMJ)
	}
	// Measured where run, modelled for CB-DTLS: Evaluate takes it.
	src := measure.NewSource(res, eval.NewModel(p, sensors.RecordLen))
	rep, err := eval.Evaluate(eval.Config{Profile: p, Source: src})
	if err != nil {
		t.Fatal(err)
	}
	if rep.Emulated.Origin != "mixed" || len(rep.Emulated.Figures) != 4 {
		t.Fatalf("emulated origin %q with %d schemes", rep.Emulated.Origin, len(rep.Emulated.Figures))
	}
	// The modelled CB-DTLS gets the measured background as its floor.
	if cb := rep.Emulated.Figures[3]; cb.Origin != eval.Modelled || cb.IdlePowerMW != src.BackgroundPowerMW || src.BackgroundPowerMW <= 0 {
		t.Fatalf("cb-dtls %s, idle %.4f mW, background %.4f mW", cb.Origin, cb.IdlePowerMW, src.BackgroundPowerMW)
	}
	if _, err := measure.Run(context.Background(), measure.Config{Schemes: []eval.Scheme{eval.CBDTLS}}); err == nil {
		t.Fatal("cb-dtls measured")
	}
}

func TestMeasureOverUDP(t *testing.T) {
	p, _ := profile.Load("z1")
	res, err := measure.Run(context.Background(), measure.Config{Profile: p, Transactions: 5, UDP: true, Dir: t.TempDir(),
		Schemes: []eval.Scheme{eval.Ascon128}})
	if err != nil {
		t.Fatal(err)
	}
	check(t, p, res, 5)
	// Over UDP there is no routing traffic: exactly the PUBLISH, the
	// PUBACK and their link ACKs.
	f := res[0].Figures
	if f.Transmit.FramesTX != 2 || f.Transmit.FramesRX != 2 || f.Receive.FramesTX != 2 || f.Receive.FramesRX != 2 {
		t.Errorf("frames per transaction: publisher %d/%d, subscriber %d/%d; want 2/2", f.Transmit.FramesTX, f.Transmit.FramesRX, f.Receive.FramesTX, f.Receive.FramesRX)
	}
}
