"""Street-lighting schedules (issue 24): steps at fixed times or relative to the sun, exceptions by date, the
crisis override, the scheduler that sends each step once through the one downlink queue, and the energy saved."""
