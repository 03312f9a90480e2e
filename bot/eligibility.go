package bot

// Assessment is the verdict of the eligibility rules for one organization.
type Assessment struct {
	ApprovalRequired bool     `json:"approvalRequired"`
	Because          []string `json:"because,omitempty"` // the criteria that hold
	Unknown          []string `json:"unknown,omitempty"` // the unknown criteria that decide it
	Role             Role     `json:"role"`              // the predicted role
	Trial            bool     `json:"trial,omitempty"`   // a trial org cannot be converted
}
