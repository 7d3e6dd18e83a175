using Cimef.Site.Data.Entities;
using Cimef.Site.FrontDesk;
using Cimef.Site.Tests.Infrastructure;
using Microsoft.EntityFrameworkCore;

namespace Cimef.Site.Tests.FrontDesk;

/// <summary>
/// Name search through the trigram index (rare names) and through the ordered SearchName walk (names many patients
/// share) gives the same answers; the index follows inserts and renames by itself.
/// </summary>
public class PatientNameSearchTests(CimefFactory factory) : IClassFixture<CimefFactory>
{
    private Task<List<string>> SearchAsync(string q) => factory.WithDbAsync(async db =>
    {
        await db.Database.OpenConnectionAsync();
        var page = await PatientSearch.RunAsync(db.Database.GetDbConnection(), q, 1);
        return page.Rows.Select(r => r.FullName).ToList();
    });

    private Task<Patient> AddAsync(string fullName) => factory.WithDbAsync(async db =>
    {
        var p = new Patient
        {
            FullName = fullName,
            SearchName = Site.Web.Text.SearchForm(fullName),
            Phone = $"+22176{Random.Shared.Next(10_000_000):D7}",
            CreatedAt = factory.Time.GetUtcNow().UtcDateTime,
            CreatedBy = "test",
        };
        db.Patients.Add(p);
        await db.SaveChangesAsync();
        return p;
    });

    [Fact]
    public async Task Rare_and_common_names_are_found_by_any_part_accent_free_and_renames_follow()
    {
        var rare = await AddAsync("Ndèye Khoudia Wellé");
        for (var i = 0; i < 520; i++) await AddAsync($"Awa Thiaw {i:D3}");

        Assert.Equal(["Ndèye Khoudia Wellé"], await SearchAsync("khoudia welle"));
        Assert.Equal(["Ndèye Khoudia Wellé"], await SearchAsync("OUDIA"));
        Assert.Empty(await SearchAsync("zzzz"));
        var common = await SearchAsync("thiaw");
        Assert.Equal(PatientSearch.PageSize, common.Count);
        Assert.Equal("Awa Thiaw 000", common[0]);
        Assert.Equal(["Awa Thiaw 517"], await SearchAsync("thiaw 517"));

        await factory.WithDbAsync(async db =>
        {
            var p = await db.Patients.SingleAsync(x => x.Id == rare.Id);
            p.FullName = "Ndèye Khoudia Sarr";
            p.SearchName = Site.Web.Text.SearchForm(p.FullName);
            return await db.SaveChangesAsync();
        });
        Assert.Empty(await SearchAsync("welle"));
        Assert.Equal(["Ndèye Khoudia Sarr"], await SearchAsync("khoudia sarr"));
    }
}
