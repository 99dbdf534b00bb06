import statistics as st,sys
R=[int(x) for x in sys.argv[1].split(',')]
rows={};order=[]
for v in ['old','new']:
  for r in R:
    for line in open(f'layers-{v}-{r}.csv'):
      f=line.strip().split(',')
      if line.startswith('#') or len(f)<7 or f[4]!='native': continue
      key=','.join(f[:4]+[f[5]])
      if key not in rows: order.append(key)
      rows.setdefault(key,{}).setdefault(v,[]).append((float(f[6]), f[8]))
print("| layer, pass, batch | old ms (peak) | new ms (peak) | speed-up |")
print("|---|---|---|---|")
for k in order:
  d=rows[k]
  if 'old' in d and 'new' in d:
    o=sorted(d['old']);n=sorted(d['new']);mo=o[len(o)//2];mn=n[len(n)//2]
    pk=lambda x: f" ({float(x[1])*100:.0f} %)" if x[1] else ""
    print(f"| {k} | {mo[0]:.3f}{pk(mo)} | {mn[0]:.3f}{pk(mn)} | {mo[0]/mn[0]:.2f}x |")
for v in ['old','new']:
  t=[open(f'train-{v}-{r}.csv').read().strip().split('\n')[-1].split(',') for r in R]
  print(v,"train native steps/s:",[x[4] for x in t],"peak frac:",[x[7] for x in t], "median frac", st.median(float(x[7]) for x in t))
