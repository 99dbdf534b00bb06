/* The probe behind README.md's "37.9 vs 21.8 GFLOP/s": one 6x16 AVX2 tile (and a 4x24 one) over
 * 256 steps of k, all in L1, with the last B vector loaded masked or plainly.
 *   gcc -O3 -mavx2 -mfma masked-load-probe.c -o probe && ./probe   (learning runs paused) */
#include <immintrin.h>
#include <stdio.h>
#include <time.h>
#include <stdlib.h>
static double now(){struct timespec t;clock_gettime(CLOCK_MONOTONIC,&t);return t.tv_sec+1e-9*t.tv_nsec;}
#define K 256
static inline __attribute__((always_inline)) void k6x16i(const float*a,const float*b,float*c,const int mask){
  __m256 acc[12]; for(int i=0;i<12;i++)acc[i]=_mm256_setzero_ps();
  __m256i m=_mm256_set1_epi32(-1);
  for(int p=0;p<K;p++){ __m256 b0=_mm256_loadu_ps(b+16*p), b1= mask? _mm256_maskload_ps(b+16*p+8,m):_mm256_loadu_ps(b+16*p+8);
#pragma GCC unroll 6
    for(int i=0;i<6;i++){__m256 ai=_mm256_broadcast_ss(a+6*p+i); acc[2*i]=_mm256_fmadd_ps(ai,b0,acc[2*i]); acc[2*i+1]=_mm256_fmadd_ps(ai,b1,acc[2*i+1]);}}
  __m256 s=acc[0]; for(int i=1;i<12;i++) s=_mm256_add_ps(s,acc[i]); _mm256_storeu_ps(c,s);}
__attribute__((noinline)) void k6m(const float*a,const float*b,float*c){k6x16i(a,b,c,1);}
__attribute__((noinline)) void k6u(const float*a,const float*b,float*c){k6x16i(a,b,c,0);}
__attribute__((noinline)) void k4x24(const float*a,const float*b,float*c){
  __m256 acc[12]; for(int i=0;i<12;i++)acc[i]=_mm256_setzero_ps();
  for(int p=0;p<K;p++){ __m256 b0=_mm256_loadu_ps(b+24*p), b1=_mm256_loadu_ps(b+24*p+8), b2=_mm256_loadu_ps(b+24*p+16);
#pragma GCC unroll 4
    for(int i=0;i<4;i++){__m256 ai=_mm256_broadcast_ss(a+4*p+i); acc[3*i]=_mm256_fmadd_ps(ai,b0,acc[3*i]); acc[3*i+1]=_mm256_fmadd_ps(ai,b1,acc[3*i+1]);acc[3*i+2]=_mm256_fmadd_ps(ai,b2,acc[3*i+2]);}}
  __m256 s=acc[0]; for(int i=1;i<12;i++) s=_mm256_add_ps(s,acc[i]); _mm256_storeu_ps(c,s);}
int main(){ float *a=aligned_alloc(64,4*24*K), *b=aligned_alloc(64,4*24*K), c[96];
 for(int i=0;i<24*K;i++){a[i]=1e-3f*(i%7);b[i]=1e-3f*(i%5);}
 int R=200000;
 for(int v=0;v<3;v++){ double t=now(); for(int r=0;r<R;r++){ if(v==0)k6m(a,b,c); else if(v==1)k6u(a,b,c); else k4x24(a,b,c);} t=now()-t;
  printf("%s %.1f GFLOP/s\n", v==0?"6x16 maskload":v==1?"6x16 loadu":"4x24", 2.0*96*K*R/t/1e9);}
 return c[5]>1e9;}
