// Package handoverclient is the node's side of lsmqtt's session handover
// (docs/protocol.md "Handover"), on top of the MQTT-SN client
// (mqttsn/client) and nothing else: "resume at the visited gateway, else
// connect afresh".
//
// A Node connects once in full (CONNECT with the Trusted System's admission
// challenge answered, REGISTER of its topics, SUBSCRIBE), keeps the session
// token its gateway sends after CONNACK (HO-TOKEN), and when it finds itself
// in another area — its RPL parent is now another area's router, or it
// hears another gateway's ADVERTISE — calls Move with that gateway's
// address. Move sends HO-RESUME (client id, home gateway, token, and a
// proof of the node's secret when asked for one) and, once HO-RESUMED
// accepts, carries on with the same client id, topic ids and subscriptions;
// nothing else is sent. When the home is unknown or unreachable, the token
// refused or expired, or the visited gateway does not answer, Move falls
// back to a full connect there. A Node is never left without a connection
// attempt: Move returns only once one of the two succeeded or both failed.
//
// Publish survives moves: a QoS 1/2 publish in flight when the node moves is
// sent again at the new gateway at once, right behind HO-RESUME, without
// waiting for HO-RESUMED (a duplicate only as QoS 1 allows;
// for QoS 2 too, since the new msg id is not the one the gateway knows).
// Publishes made while a move is under way go out right behind HO-RESUME
// and the visited gateway holds them until the session is in (or, with
// Config.WaitForResumed, they wait for HO-RESUMED).
package handoverclient
