"""Downlinks: ACKs, MAC answers, the application queue; RX1/RX2 or immediate; gateway choice; duty cycle."""
