// Package evalplot draws the evaluation's charts as PNG files with
// gonum.org/v1/plot, in the spirit of the paper's Figure 3 (energy per
// scheme) and Figure 5 (node lifetime against transactions per hour):
//
//	energy-per-transaction.png   emulated components per scheme, stacked
//	energy-paper-vs-emulated.png the paper model's per-transaction energies
//	                             beside the emulated ones (log scale)
//	lifetime.png                 lifetime against transactions per hour,
//	                             paper model and emulated model (log-log)
//
// It is kept apart from package eval so that eval carries no plotting
// dependencies.
package evalplot
