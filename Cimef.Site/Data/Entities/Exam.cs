namespace Cimef.Site.Data.Entities;

/// <summary>An entry of the exam catalogue. Prices are whole XOF (FCFA).</summary>
public class Exam
{
    public int Id { get; set; }
    public string Code { get; set; } = "";
    public string Name { get; set; } = "";
    public string Modality { get; set; } = "";
    public int Price { get; set; }
    public bool IsActive { get; set; } = true;
}
