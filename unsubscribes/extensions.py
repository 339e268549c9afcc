"""Where the apps above `unsubscribes` hear about subscription changes.

The Salesforce sync sits above this app, so the services here cannot import
it. Instead a listener registered in an AppConfig.ready() is called inside the
very transaction that records each change, after the history rows and the
contact's status are written:

    listener(contact_ids=[...], action="unsubscribe" | "resubscribe",
             channel="unsubscribe_link" | "one_click" | ... )

Listeners hear every change that changed something, from every channel,
including "salesforce_sync": a listener that pushes to Salesforce must skip
that channel itself. A listener that raises rolls the whole change back, so an
outbox row written by a listener is committed exactly when the change is.
Listeners must be set-based (one statement per call, whatever the number of
ids): the bulk unsubscribe calls them once per batch.
"""

from collections.abc import Callable, Sequence

SubscriptionListener = Callable[..., None]

_listeners: dict[str, SubscriptionListener] = {}


def register_subscription_listener(listener: SubscriptionListener) -> None:
    """Call `listener` inside the transaction of every subscription change."""
    # Keyed by name so that registering twice (ready() runs again in some test
    # set-ups) still calls the listener once.
    _listeners[f"{listener.__module__}.{listener.__qualname__}"] = listener


def notify_subscription_changed(
    *, contact_ids: Sequence[int], action: str, channel: str
) -> None:
    """Tell every listener that these contacts changed; no-op for no ids."""
    if not contact_ids:
        return
    for listener in _listeners.values():
        listener(contact_ids=list(contact_ids), action=action, channel=channel)
