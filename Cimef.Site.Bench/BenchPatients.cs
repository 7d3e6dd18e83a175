using Cimef.Site.Access;
using Cimef.Site.Cli;
using Cimef.Site.Data;
using Cimef.Site.Data.Entities;
using Cimef.Site.Storage;
using Cimef.Site.Tests.Infrastructure;
using Microsoft.Extensions.DependencyInjection;

namespace Cimef.Site.Bench;

/// <summary>
/// Seeds a data directory for the benches that run the published site: N patients, each with a sent invoice, its
/// permanent access (AccessProvisioning, the same code the cash desk uses) and one active PDF report (ReportStore).
/// One database transaction for the whole batch, so seeding costs one commit, not one per patient.
/// </summary>
public static class BenchPatients
{
    public sealed record Credentials(string Key, string Password, int ReportId);

    /// <summary>A valid one-page PDF padded with zeros to <paramref name="bytes"/> (at least the bare PDF's size).</summary>
    public static byte[] Pdf(int bytes)
    {
        var pdf = DemoSeed.MinimalPdf("Compte rendu de charge");
        return pdf.Concat(new byte[Math.Max(0, bytes - pdf.Length)]).ToArray();
    }

    /// <summary>
    /// The in-process site that seeds <paramref name="dataDir"/>. Keep it until the site process has stopped: on
    /// PostgreSQL, disposing it drops the data directory's database.
    /// </summary>
    public static CimefFactory Seeder(string dataDir)
    {
        var factory = new CimefFactory();
        factory.Settings["Storage:DataDirectory"] = dataDir;
        return factory;
    }

    public static Task<List<Credentials>> CreateAsync(CimefFactory seeder, int count, byte[] pdf) =>
        seeder.WithScopeAsync(async sp =>
        {
            var db = sp.GetRequiredService<CimefDb>();
            var provisioning = sp.GetRequiredService<AccessProvisioning>();
            var store = sp.GetRequiredService<ReportStore>();
            var now = DateTime.UtcNow;
            // Each stored file is flushed to disk: write them 16 at a time so the fsyncs overlap.
            var files = new ReportStore.StoredFile[count];
            await Parallel.ForEachAsync(Enumerable.Range(0, count), new ParallelOptions { MaxDegreeOfParallelism = 16 },
                async (i, ct) => files[i] = await store.SaveAsync(new MemoryStream(pdf), "pdf", ct));
            var made = new List<Credentials>(count);
            await using var tx = await db.Database.BeginTransactionAsync();
            for (var i = 0; i < count; i++)
            {
                var patient = new Patient { FullName = $"Patient Charge {i:D4}", SearchName = $"patient charge {i:D4}", Phone = $"+22177{i:D7}", CreatedAt = now, CreatedBy = "bench" };
                var invoice = new Invoice { Number = await InvoiceNumbers.NextAsync(db, now.Year), Patient = patient, Status = InvoiceStatus.Sent, Total = 15000, CreatedAt = now, CreatedBy = "bench", IssuedAt = now, IssuedBy = "bench" };
                db.Invoices.Add(invoice);
                await db.SaveChangesAsync(); // the access is looked up by the patient's id
                var access = await provisioning.EnsureForInvoiceAsync(invoice, null);
                var report = new PatientReport { PatientAccess = access, Invoice = invoice, Title = "Radiographie du thorax", StoredFileName = files[i].StoredFileName, OriginalName = "cr.pdf", ContentType = "application/pdf", Size = files[i].Size, Sha256 = files[i].Sha256, CreatedAt = now, CreatedBy = "bench", IsActive = true, Integrity = FileIntegrity.Ok };
                db.PatientReports.Add(report);
                await db.SaveChangesAsync();
                made.Add(new Credentials(access.AccessKey, provisioning.RevealPassword(access), report.Id));
                db.ChangeTracker.Clear(); // keeps each SaveChanges small: the tracker would otherwise hold every patient so far
            }
            await tx.CommitAsync();
            return made;
        });
}
