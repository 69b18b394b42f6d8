package loop

// StateVersion is the version of State's serialised form.
const StateVersion = 1

// State is everything the controller remembers between ticks. It is a fixed-size value.
type State struct {
	Version int   `json:"v"`
	Ticks   int64 `json:"ticks"`
	// LastWarmers/LastCoolers: the previous decision (to tell what was granted).
	LastWarmers int `json:"last_warmers"`
	LastCoolers int `json:"last_coolers"`
}

// NewState returns the state of a controller that has seen nothing.
func NewState() State { return State{Version: StateVersion} }
