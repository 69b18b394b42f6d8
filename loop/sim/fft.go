package sim

import "math"

// dft returns the discrete Fourier transform of real x (numpy.fft.fft's convention:
// X[k] = sum_n x[n] exp(-2πi kn/N)), by a mixed-radix Cooley-Tukey recursion. Like numpy's
// pocketfft, a constant input gives exactly zero outside bin 0 when N has no prime factor
// above 3 (radix 2 and 3 butterflies cancel exactly); other lengths give rounding noise there,
// which the original Relay's weight then reads as a signal.
func dft(x []float64) []complex128 {
	c := make([]complex128, len(x))
	for i, v := range x {
		c[i] = complex(v, 0)
	}
	return fftRec(c)
}

func fftRec(x []complex128) []complex128 {
	n := len(x)
	if n <= 1 {
		return append([]complex128(nil), x...)
	}
	p := smallestFactor(n)
	m := n / p
	subs := make([][]complex128, p)
	buf := make([]complex128, m)
	for r := 0; r < p; r++ {
		for j := 0; j < m; j++ {
			buf[j] = x[r+j*p]
		}
		subs[r] = fftRec(buf)
	}
	out := make([]complex128, n)
	a := make([]complex128, p)
	var wp []complex128
	if p > 3 {
		wp = make([]complex128, p)
		for j := range wp {
			wp[j] = twiddle(p, j)
		}
	}
	for k := 0; k < m; k++ {
		for r := 0; r < p; r++ {
			if r*k == 0 {
				a[r] = subs[r][k]
			} else {
				a[r] = subs[r][k] * twiddle(n, r*k)
			}
		}
		switch p {
		case 2:
			out[k], out[k+m] = a[0]+a[1], a[0]-a[1]
		case 3:
			// pocketfft's radix-3 butterfly: exact cancellation for equal inputs.
			const s3 = 0.86602540378443864676 // sin(2π/3)
			t1, t2 := a[1]+a[2], a[1]-a[2]
			out[k] = a[0] + t1
			ca := a[0] - 0.5*t1
			cb := complex(s3*imag(t2), -s3*real(t2)) // -i·sin(2π/3)·t2
			out[k+m], out[k+2*m] = ca+cb, ca-cb
		default:
			for q := 0; q < p; q++ {
				var s complex128
				for r := 0; r < p; r++ {
					s += a[r] * wp[(r*q)%p]
				}
				out[k+q*m] = s
			}
		}
	}
	return out
}

// twiddle is exp(-2πi j/n).
func twiddle(n, j int) complex128 {
	s, c := math.Sincos(-2 * math.Pi * float64(j) / float64(n))
	return complex(c, s)
}

func smallestFactor(n int) int {
	for p := 2; p*p <= n; p++ {
		if n%p == 0 {
			return p
		}
	}
	return n
}

// pairwiseSum adds like numpy's sum of a float64 array (pairwise, 8-way unrolled blocks), so
// the original's weight rounds as it did.
func pairwiseSum(a []float64) float64 {
	n := len(a)
	switch {
	case n < 8:
		s := 0.0 // numpy starts at -0.0 and adds; the sign of an exact zero does not matter here
		for _, v := range a {
			s += v
		}
		return s
	case n <= 128:
		var r [8]float64
		copy(r[:], a[:8])
		i := 8
		for ; i < n-n%8; i += 8 {
			for j := 0; j < 8; j++ {
				r[j] += a[i+j]
			}
		}
		s := (r[0] + r[1]) + (r[2] + r[3]) + ((r[4] + r[5]) + (r[6] + r[7]))
		for ; i < n; i++ {
			s += a[i]
		}
		return s
	default:
		n2 := n / 2
		n2 -= n2 % 8
		return pairwiseSum(a[:n2]) + pairwiseSum(a[n2:])
	}
}
