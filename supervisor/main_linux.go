package supervisor

// Main is the entry point of the __supervise role.
func Main() int { return 1 }
