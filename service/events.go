package service

// Events hears of the changes made through the service, after they are
// made: the hook for libvirt's lifecycle events (the RPC server's event
// stream). Changes made elsewhere (a guest's own poweroff, reboot or
// crash, seen by its supervisor) do not come through here; the event
// transport merges those in.
//
// Event is called synchronously from the operation's goroutine, once the
// change is done: it must return quickly and must not call back into the
// service.
type Events interface {
	Event(Event)
}

// Event is one change. The types and details are libvirt's
// (virDomainEventType and its details, virNetworkEventLifecycleType).
type Event struct {
	// Network is true for a managed network, false for a guest.
	Network bool
	Name    string
	UUID    string
	Type    EventType
	// Detail says how (see the EventType constants).
	Detail EventDetail
	// ID is a started guest's id (its init's host pid).
	ID int
}

// EventType is what happened.
type EventType string

// Event types.
const (
	// EventDefined: a definition was stored (DetailAdded, DetailUpdated).
	EventDefined EventType = "defined"
	// EventUndefined: a definition was removed (DetailRemoved).
	EventUndefined EventType = "undefined"
	// EventStarted: a guest booted (DetailBooted) or a network started.
	EventStarted EventType = "started"
	// EventStopped: a guest is gone (DetailShutdown, DetailDestroyed) or a
	// network stopped.
	EventStopped EventType = "stopped"
	// EventRebooted: a guest rebooted (libvirt's separate reboot event).
	EventRebooted EventType = "rebooted"
	// EventSuspended and EventResumed: a guest was frozen or thawed.
	EventSuspended EventType = "suspended"
	EventResumed   EventType = "resumed"
)

// EventDetail refines an EventType.
type EventDetail string

// Event details.
const (
	DetailAdded     EventDetail = "added"
	DetailUpdated   EventDetail = "updated"
	DetailRemoved   EventDetail = "removed"
	DetailBooted    EventDetail = "booted"
	DetailShutdown  EventDetail = "shutdown"
	DetailDestroyed EventDetail = "destroyed"
)

func (s *Service) emit(e Event) {
	if s.events != nil {
		s.events.Event(e)
	}
}
